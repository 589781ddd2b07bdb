"""Reports of the app's analysed recordings: HTML pages with PNG charts and CSV tables.

``recording_report`` (one recording) and ``period_report`` (a day or an ISO week) build a
``Report`` from the store's dicts (the shapes of ``notes/app-contract.md``); ``Report.write(out_dir)``
puts ``index.html`` and its files side by side. ``ser_tf.report.gather`` fetches the rows from a
``Store``; ``python -m ser_tf.report`` does it all offline.
"""

from ser_tf.report.document import Report
from ser_tf.report.gather import gather_period, gather_recording, period_bounds
from ser_tf.report.period import period_report
from ser_tf.report.recording import recording_report

__all__ = ["Report", "recording_report", "period_report", "period_bounds", "gather_period",
           "gather_recording"]
