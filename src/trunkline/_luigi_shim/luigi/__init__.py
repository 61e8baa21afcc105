# Put first on PYTHONPATH by trunkline.install_as_luigi(), so that a Python
# process started from an aliased one gets trunkline on its first
# ``import luigi`` too. It installs the alias and steps aside; the import
# statement that loaded it then receives the alias package.
import os
import sys

del sys.modules["luigi"]
if os.environ.get("TRUNKLINE_AS_LUIGI", "").strip().lower() in {"0", "false", "no", "off"}:
    # The alias was turned off for this process: give it the real Luigi.
    _here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    import luigi  # noqa: F401  (the real one; replaces this module in sys.modules)
else:
    from trunkline._luigi_alias import install_as_luigi

    install_as_luigi()
