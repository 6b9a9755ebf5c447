-- main_schema: back to the real run's tables after a placebo run.
RESET search_path;
