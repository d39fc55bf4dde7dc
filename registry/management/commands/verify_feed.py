"""Recompute every version's feed item and check the hash chain (``registry.feed``).

Exits with an error naming the first broken item, so a cron job or a mirror's operator can
tell that a stored version was rewritten and which one."""

from django.core.management.base import BaseCommand, CommandError

from registry import feed


class Command(BaseCommand):
    help = "Check the change feed's hash chain; name the first broken item."

    def handle(self, *args, **options):
        count, broken = feed.verify()
        if broken is not None:
            raise CommandError(f"Feed item {broken.sequence} is broken: {broken.reason}.")
        sequence, digest = feed.head()
        self.stdout.write(
            self.style.SUCCESS(f"{count:,} feed items verified; head {sequence} {digest}")
        )
