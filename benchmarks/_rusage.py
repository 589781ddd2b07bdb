"""Run a command and write its ``wait4`` resource usage as JSON: ``python _rusage.py OUT CMD...``.

Why a separate small process: Linux starts a new program's peak-RSS record (``ru_maxrss``) from
the memory of the process it was forked from, so a command started directly by a benchmark that
holds TensorFlow (hundreds of MB) would report that memory as its own. Forked from this tiny
interpreter instead, the command's peak RSS is its own (plus at most this process's ~10 MB).
"""

import json
import os
import sys


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        except OSError as err:
            print(f"cannot run {cmd[0]!r}: {err}", file=sys.stderr)
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w", encoding="utf-8") as sink:
        json.dump({"returncode": os.waitstatus_to_exitcode(status), "user_s": usage.ru_utime,
                   "sys_s": usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
                   "minflt": usage.ru_minflt, "majflt": usage.ru_majflt}, sink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
