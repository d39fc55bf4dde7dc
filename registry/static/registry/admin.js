// Select2's read-only text box names itself by a title once a choice is made, and by
// nothing while it shows only its placeholder: name it then (axe's aria-input-field-name).
'use strict';
{
    const name = () => {
        for (const box of document.querySelectorAll('.select2-selection__rendered[role="textbox"]')) {
            if (box.hasAttribute('title')) {
                box.removeAttribute('aria-label');
            } else {
                box.setAttribute('aria-label', 'No choice made: type a code or a name');
            }
        }
    };
    window.addEventListener('load', name);
    document.addEventListener('formset:added', () => setTimeout(name));
    if (window.django && window.django.jQuery) {
        window.django.jQuery(document).on('change select2:select select2:clear', () => setTimeout(name));
    }
}
