"""The page around a report's sections: inline CSS (screen and A4 print) and the HTML shell.

Kept apart from the code that fills it, so both read on their own. Nothing here is fetched from
elsewhere (no web font, no script), so the page opens offline.
"""

import string

STYLE = """
:root { --ink: #1d1d1f; --muted: #5b6068; --rule: #d9dce1; --band: #f4f6f8; --bad: #fdecea; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 32px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.02em; margin: 18px 0 6px; }
p, li { max-width: 80ch; }
.lede { color: var(--muted); margin: 0 0 10px; max-width: none; }
nav { margin: 8px 0 0; font-size: 0.93em; }
nav a { margin-right: 14px; color: #0b5cad; text-decoration: none; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 0.92em; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
  gap: 8px 32px; align-items: start; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 0.9em; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
thead th { background: var(--band); border-bottom: 2px solid var(--rule); white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.diverged td { background: var(--bad) !important; }
table.facts th { background: none; font-weight: 600; white-space: nowrap; color: var(--muted);
  border-bottom: 1px solid var(--rule); }
.note { color: var(--muted); font-size: 0.88em; margin: 2px 0 10px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr));
  gap: 24px; }
figure { margin: 0; padding: 12px; border: 1px solid var(--rule); border-radius: 6px; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { margin-top: 8px; font-size: 0.9em; }
figcaption b { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 600; }
.ok { color: #1a7f37; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .figures { display: block; }
  figure { break-inside: avoid; page-break-inside: avoid; margin: 0 0 12px; border: none;
    padding: 0; }
  figure img { max-height: 11.5cm; width: auto; }  /* two figures to an A4 page */
  .scroll { overflow: visible; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

PAGE = string.Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="optbench $version">
<title>$title</title>
<style>$style</style>
</head>
<body>
<main>
$body
</main>
</body>
</html>
"""
)
