"""Make this registry a mirror of another: replay its change feed (``registry.mirror``,
``registry.services.replay_feed``).

``manage.py replay_feed https://registry.example/feed`` reads the items after this
registry's head, page by page, checks each against the hash chain and writes it as the
source recorded it, all in one transaction; run it again (from cron, say) to catch up. A
JSON Lines file of items (a saved ``/feed``) can be given instead of a URL; its registers
must then exist here. An item that breaks the chain is refused, naming its sequence number,
and nothing is written. A mirror is written only by this command: its own edits would fork
its chain from the source's, and the next replay would refuse to go on.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from registry import feed, mirror
from registry.services import ServiceError, replay_feed


class Command(BaseCommand):
    help = "Replay another registry's change feed (a URL or a JSON Lines file) into this one."

    def add_arguments(self, parser):
        parser.add_argument("source", help="the feed's URL (…/feed) or a JSON Lines file")
        parser.add_argument(
            "--page",
            type=int,
            default=mirror.PAGE,
            help=f"items to ask for a request (1 to 10,000; default {mirror.PAGE:,})",
        )

    def handle(self, *args, source, page, verbosity=1, **options):
        if not 1 <= page <= 10_000:
            raise CommandError("--page must be from 1 to 10,000.")
        since, _ = feed.head()

        def progress(message: str) -> None:
            if verbosity > 1:
                self.stdout.write(message)

        try:
            found = mirror.open_source(source, since, page=page)
            result = replay_feed(
                found.items, registers=found.registers, source=source, progress=progress
            )
        except (mirror.SourceError, ServiceError) as error:
            raise CommandError(str(error)) from None
        except (DatabaseError, KeyError, TypeError, ValueError) as error:
            raise CommandError(f"The feed could not be applied ({error!r}).") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.items:,} feed items replayed ({result.entries:,} entry versions, "
                f"{result.events:,} change event versions); head {result.sequence} "
                f"{result.digest}"
            )
        )
