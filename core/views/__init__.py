"""Read models behind the pages, the API and the report: `today` (the day's figures), `insights`
(process mining: dwell, bottlenecks, WIP, paths), `operations` (store size, job summary, quarantine)
and `stored` (the heavy views materialised beside the store by the daily job, on disk through
`view_files`)."""
