from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referrals"
    verbose_name = "Referrals and releases"

    def ready(self):
        from core.db import APPEND_ONLY_TABLES

        for table in ("referrals_release", "referrals_revocation"):
            if table not in APPEND_ONLY_TABLES:
                APPEND_ONLY_TABLES.append(table)

        from core import nudges

        from . import selectors

        nudges.group(
            "referrals",
            label="Referrals",
            about="A referral is waiting for your answer.",
            audience=["clinician"],
        )
        nudges.group(
            "releases",
            label="Releases ending",
            about="A release of information ends in two weeks.",
            audience=["patient", "clinician"],
        )
        swept = {"candidates": selectors.nudge_candidates, "every": 15}
        nudges.register(
            "referral_unanswered",
            title="A referral is waiting for your answer",
            link="/referrals/{subject}/",
            group="referrals",
            **swept,
        )
        nudges.register(
            "release_expiring",
            title="A release of information ends in two weeks",
            link="/releases/{subject}/",
            group="releases",
            **swept,
        )
