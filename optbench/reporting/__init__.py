"""The report of a results folder: one self-contained HTML page (``html``, ``template``).

Not named ``optbench.report``: that is the API function, and importing a subpackage of the same
name would replace the function on the package (``optbench.report(folder)`` would then fail).
"""

from optbench.reporting.html import REPORT_HTML, write_report

__all__ = ["REPORT_HTML", "write_report"]
