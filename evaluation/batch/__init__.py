"""Many evaluations against one national extract (``reoffend batch``): the requests, one
request's run, and the batch's own record and page. Nothing here imports Prefect; the batch
flow (flows/batch.py) runs :func:`evaluation.batch.request.run_request` as one task each."""
