from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo and benchmark data generators (manage.py seed_demo, seed_bulk): they seed every app,
    so they sit above all of them (docs/decisions/017-layers.md). No models."""

    name = "demo"
    verbose_name = "Demo and benchmark data"
