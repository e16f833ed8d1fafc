from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _shipped_formulary_when_empty(sender, using="default", **kwargs):
    """An empty formulary (after `flush`, which empties tables that a data migration filled)
    gets the shipped one back: without it no medicine could be coded. A formulary the clinic
    has edited is never touched."""
    from django.db import connections

    from . import coding
    from .models import FormularyEntry, InteractionRule

    tables = set(connections[using].introspection.table_names())
    if not {FormularyEntry._meta.db_table, InteractionRule._meta.db_table} <= tables:
        return
    if (
        FormularyEntry.objects.using(using).exists()
        or InteractionRule.objects.using(using).exists()
    ):
        return
    coding.formulary_import(
        medicines=coding.read(coding.MEDICINES_FILE, "medicines"),
        rule_rows=coding.read(coding.RULES_FILE, "rules"),
        using=using,
    )


class PrescribingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prescribing"
    verbose_name = "Medication plans"

    def ready(self):
        from core.db import APPEND_ONLY_TABLES

        # Decision records are the medication's immutable timeline, with the goals each served.
        for table in ("prescribing_decisionrecord", "prescribing_decisionrecord_goals"):
            if table not in APPEND_ONLY_TABLES:
                APPEND_ONLY_TABLES.append(table)
        post_migrate.connect(
            _shipped_formulary_when_empty, sender=self, dispatch_uid="concord-formulary"
        )
        _register_reminders()


def _register_reminders():
    """Refill timing (swept: one set-based query for all five kinds) and refill requests (sent
    to the prescriber when one is made)."""
    from core import nudges

    from . import selectors

    swept = {
        "candidates": selectors.refill_nudge_candidates,
        "rows": selectors.refill_nudge_rows,
        "every": 15,
    }
    nudges.group(
        "refills",
        label="Refills",
        about="When it is time to ask for a refill or a new prescription.",
        audience=["patient"],
    )
    nudges.group(
        "refill_requests",
        label="Refill requests",
        about="A patient asked for a refill, or may run out of a medicine soon.",
        audience=["clinician"],
    )
    refill = "/medications/{subject}/refill/"
    mine = {**swept, "group": "refills"}
    nudges.register("refill_ask_soon", title="Time to ask for a refill", link=refill, **mine)
    nudges.register(
        "renewal_ask_soon", title="Time to ask for a new prescription", link=refill, **mine
    )
    nudges.register(
        "refill_ask_today", title="Please ask for your refill today", link=refill, **mine
    )
    nudges.register(
        "renewal_ask_today", title="Please ask for your prescription today", link=refill, **mine
    )
    # The prescriber's, whatever the patient chose: the patient may have turned theirs off.
    nudges.register(
        "refill_overdue",
        title="A patient may run out of a medicine soon",
        link="/medications/{subject}/",
        group="refill_requests",
        **swept,
    )
    # A deprescribing review put off until a date: its prescriber is told that day (H-73).
    nudges.group(
        "reviews",
        label="Medicine reviews",
        about="A deprescribing review you put off has come due.",
        audience=["clinician"],
    )
    nudges.register(
        "review_due",
        title="A medicine review you put off is due today",
        link="/medications/{subject}/#review",
        candidates=selectors.review_due_candidates,
        every=15,
        group="reviews",
    )
    nudges.register(
        "refill_requested",
        title="A refill request is waiting for you",
        link="/refills/",
        group="refill_requests",
    )
    nudges.register(
        "refill_requested_late",
        title="A late refill request is waiting for you",
        link="/refills/",
        group="refill_requests",
    )
