"""The curators' upload of an ONS change release: preview what it would do, then apply it
as one change set (see ``geography.change_import``)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from registry.services import ValidationFailed

from . import change_import
from .importers.base import LoadError

# Uploads previewed but never applied are deleted after this long (their session is gone).
UPLOAD_MAX_AGE_SECONDS = 24 * 3600


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="A Code History Database file in the ChangeHistory or Changes layout (CSV, UTF-8)."
    )


class ApplyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    change_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why you are importing this file, for example “ONS CHD December 2026 release”.",
    )


def _upload_dir() -> Path:
    path = Path(getattr(settings, "REGISTRY_UPLOAD_DIR", settings.BASE_DIR / "var" / "uploads"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def prune_uploads(now: float | None = None) -> list[str]:
    """Delete previewed files older than ``UPLOAD_MAX_AGE_SECONDS`` (abandoned previews), and
    return their names. Run at every preview, so the folder never grows without bound."""
    now = time.time() if now is None else now
    removed = []
    for path in _upload_dir().glob("*.csv"):
        try:
            if now - path.stat().st_mtime > UPLOAD_MAX_AGE_SECONDS:
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:  # applied or pruned by another request meanwhile
            continue
    return removed


def _check(request) -> None:
    if not (
        request.user.has_perm("registry.add_entry")
        and request.user.has_perm("registry.change_entry")
    ):
        raise PermissionDenied


def change_import_view(request):
    """Upload a file and see what it would create, change and terminate."""
    _check(request)
    context = {**admin.site.each_context(request), "title": "Import an ONS change file"}
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = Path(upload.name).name
        try:
            limit = settings.REGISTRY_CHANGE_IMPORT_MAX_BYTES
            if upload.size > limit:
                raise LoadError(name, 0, f"the file is larger than {limit // 1024 // 1024} MB")
            text = upload.read().decode("utf-8-sig")
            plan = change_import.preview(text, name, request.user)
        except UnicodeDecodeError:
            form.add_error("file", f"{name} is not UTF-8 text.")
        except LoadError as error:
            form.add_error("file", str(error))
        except ValidationFailed as error:
            for message in error.messages[:50]:
                form.add_error("file", message)
        else:
            prune_uploads()
            token = uuid.uuid4().hex
            # newline="" both ways: apply must read exactly the text the preview planned.
            (_upload_dir() / f"{token}.csv").write_text(text, encoding="utf-8", newline="")
            request.session[f"change-import-{token}"] = [name, plan.fingerprint()]
            context.update(plan=plan, apply_form=ApplyForm(initial={"token": token}))
    context["form"] = form
    return TemplateResponse(request, "admin/geography/change_import.html", context)


def change_import_apply(request):
    """Apply a previewed file, atomically, as one change set attributed to the curator."""
    _check(request)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("change-import"))
    form = ApplyForm(request.POST)
    token = request.POST.get("token", "")
    previewed = request.session.get(f"change-import-{token}") if token.isalnum() else None
    path = _upload_dir() / f"{token}.csv"
    if not isinstance(previewed, list) or not path.exists():
        messages.error(
            request, "That upload has expired or was already applied: upload the file again."
        )
        return HttpResponseRedirect(reverse("change-import"))
    if not form.is_valid():
        messages.error(request, "Say why you are importing this file (a change note).")
        return HttpResponseRedirect(reverse("change-import"))
    name, fingerprint = previewed
    try:
        with path.open(encoding="utf-8", newline="") as saved:
            text = saved.read()
        plan = change_import.apply(
            text,
            name,
            request.user,
            form.cleaned_data["change_note"],
            previewed=fingerprint,
        )
    except (LoadError, ValidationFailed) as error:
        messages.error(request, f"Nothing was applied: {error}")
        return HttpResponseRedirect(reverse("change-import"))
    path.unlink(missing_ok=True)
    del request.session[f"change-import-{token}"]
    messages.success(
        request,
        f"Applied {name}: {len(plan.created)} created, {len(plan.changed)} changed, "
        f"{len(plan.terminated)} terminated, {len(plan.events_created)} change events created.",
    )
    return HttpResponseRedirect(reverse("admin:registry_entry_changelist"))
