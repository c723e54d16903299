"""Shared by the boto3 scripts of the interop tests: boto3 itself (a missing
boto3 exits 3, which the Go tests report as a failure, not a skip) and
check(), which fails the script with a message.
"""
import sys

try:
    import boto3  # noqa: F401 (re-exported)
    from botocore.config import Config  # noqa: F401
    from botocore.exceptions import ClientError  # noqa: F401
except ImportError as e:
    print("boto3 is not installed: %s" % e, file=sys.stderr)
    sys.exit(3)


def check(cond, what):
    """Exit 1 with what on stderr unless cond holds."""
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)
