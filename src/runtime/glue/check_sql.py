"""Checks the queries of transform.sql files with Spark SQL, for ``sdlf validate``.

One local Spark session (``local[1]``, no UI) checks every job of the request, each in its own Spark session
(``newSession()``: own temporary views, one JVM). A job is the statements of one transform.sql and, when the
dataset has sample data, the input views its light transform stages from it:

  * with input views, each query is analyzed and planned (``spark.sql`` + the physical plan) as the Glue runner
    (main.py, beside this file) runs it; a CREATE TABLE or CREATE VIEW becomes a view for the statements after
    it. A query that reads a table neither the sample nor an earlier statement defines is only parsed, and
    reported as unresolved: the Glue runner skips such a statement in a batch that lacks the table.
  * without input views, each query is only parsed.

Usage: python check_sql.py <request.json> <result.json>

The request is ``{"jobs": [{"id", "views": {table: [JSON Lines file, ...]} | null, "statements": [{"name",
"select", "line"}, ...]}]}``; the result is ``{"jobs": [{"id", "errors": [{"line", "name", "reason"}],
"unresolved": [{"line", "name", "relation"}]}]}``, where a reason is the first line of Spark's message.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from main import missing_relation  # noqa: E402 - main.py is the Glue runner beside this file


def first_line(error):
    """The first non-empty line of an exception's message, trimmed (Spark's error class and reason)."""
    for line in str(error).splitlines():
        if line.strip():
            return line.strip()
    return type(error).__name__


def parse_only(spark, select):
    """Parses a query with Spark's SQL parser, without resolving its tables; returns the error line or None."""
    try:
        spark._jsparkSession.sessionState().sqlParser().parsePlan(select)
    except Exception as error:  # noqa: BLE001 - py4j raises Spark's ParseException as a converted exception
        return first_line(error)
    return None


def check_job(spark, job):
    """Checks one job's statements in order; returns its errors and unresolved statements."""
    errors = []
    unresolved = []
    views = job.get("views")
    for statement in job["statements"]:
        name, select, line = statement["name"], statement["select"], statement["line"]
        if views is None:
            reason = parse_only(spark, select)
            if reason is not None:
                errors.append({"line": line, "name": name, "reason": reason})
            continue
        try:
            df = spark.sql(select)
            df._jdf.queryExecution().executedPlan()
        except Exception as error:  # noqa: BLE001 - Spark's analysis errors are not importable portably
            relation = missing_relation(str(error))
            if relation is None:
                errors.append({"line": line, "name": name, "reason": first_line(error)})
                continue
            reason = parse_only(spark, select)
            if reason is not None:
                errors.append({"line": line, "name": name, "reason": reason})
            else:
                unresolved.append({"line": line, "name": name, "relation": relation})
            continue
        df.createOrReplaceTempView(name)
    return {"id": job["id"], "errors": errors, "unresolved": unresolved}


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    from pyspark.sql import SparkSession

    root = SparkSession.builder.appName("sdlf-validate").getOrCreate()
    root.sparkContext.setLogLevel("ERROR")
    results = []
    for job in request["jobs"]:
        spark = root.newSession()
        for table, files in sorted((job.get("views") or {}).items()):
            # The same JSON inference as the Glue runner's input views.
            spark.read.option("mode", "FAILFAST").json(files).createOrReplaceTempView(table)
        results.append(check_job(spark, job))
    with open(argv[2], "w", encoding="utf-8") as handle:
        json.dump({"jobs": results}, handle)
    root.stop()


if __name__ == "__main__":
    main(sys.argv)
