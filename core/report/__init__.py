"""The weekly report: `contents` (an ISO week, the report's sections and tables), `tables` (every
table, from one snapshot of the store and the dashboard's own functions), `workbook` (the Excel
file), `page` (the self-contained HTML page with charts) and `weekly` (build the week's report and
write both files)."""
