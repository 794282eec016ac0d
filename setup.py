"""Packages for setuptools; everything else is declared in setup.cfg.

The HTML templates stay in the project's top-level `templates/` folder (the design
card's layout) and are installed as the package `searchapp.templates`, so a wheel
carries them and an editable install finds them in the checkout. Every package under
`searchapp/` is found by itself.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["searchapp", "searchapp.*"]), "searchapp.templates"],
    package_dir={"searchapp.templates": "templates"},
)
