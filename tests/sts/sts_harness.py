"""tests/sts/harness.py under a name that does not clash with tests/idp/harness.py.

Both directories have a `harness` module; with both on sys.path only one can be
imported as `harness`. Import this one instead:

    sys.path.insert(0, "tests/sts")
    from sts_harness import FakeSTS, aws_cli_env, write_aws_config, id_token
"""

import importlib.util
import os
import sys

_NAME = "oktacred_sts_harness"
if _NAME in sys.modules:
    _mod = sys.modules[_NAME]
else:
    _spec = importlib.util.spec_from_file_location(
        _NAME, os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py"))
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _mod
    _spec.loader.exec_module(_mod)

__all__ = list(_mod.__all__)
globals().update({k: getattr(_mod, k) for k in __all__})
