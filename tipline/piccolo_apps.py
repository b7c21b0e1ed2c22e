"""Helpers shared by every package's ``piccolo_app.py`` (the assembly is ``tipline.app``)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig
from piccolo.table import Table

MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "migrations"


def app_config(app_name: str, table_classes: list[type[Table]]) -> AppConfig:
    """A Piccolo app whose migrations live in ``migrations/<app_name>/``."""
    return AppConfig(
        app_name=app_name,
        migrations_folder_path=str(MIGRATIONS_ROOT / app_name),
        table_classes=table_classes,
    )
