"""Village self-government reporting: elections, reviews, appraisals, rules, supervision.

Importing the package adds its message catalogues and templates to the service's
(:func:`tipline.web.i18n.register_package_root`): the base of ``tipline`` names no
package above it (docs/ARCHITECTURE.md).
"""

from pathlib import Path

from tipline.web.i18n import register_package_root

register_package_root(Path(__file__).resolve().parent)
