"""Fleet triage: thousands of captures scanned into a store, bucketed by diagnosis and crash, reported.

``discover``     what a scan finds under its PATHs (directories, globs, archives; crash dirs and
                 sosreports through :mod:`triage.ingest.layouts`)
``names``        which file names are captures, archives, dumps or noise
``archive``      captures inside tar archives, read without extracting
``host``         the host of a capture, from its text or its path
``units``        the work as plain data: Unit in, Outcome out
``task``         the worker: one unit diagnosed with the main job's pipeline and fingerprinted
``fingerprint``  diagnosis keys, crash signatures and buckets, versioned
``executors``    a process pool or a Dask cluster running the task
``schema``       the store's tables and migrations
``store``        SQLite or PostgreSQL through SQLAlchemy Core; the coordinator is the only writer
``scan``         the coordinator of ``fleet scan``
``overrides``    user rules that merge or split buckets and attach tickets
``buckets``      the fleet report's data: buckets, drill-down, hosts
``render``       the fleet report as rich, Markdown or JSON
``html``         the fleet report as one self-contained HTML page

Sits above :mod:`triage.report` (it may import report, engine, ingest and model); only the CLI imports it.
"""
