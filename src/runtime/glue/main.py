"""Stage B heavy transform of an sdlf dataset: the AWS Glue 5.0 (PySpark) job.

It runs the dataset's ``transform.sql`` over exactly the batch of staged files the stage B state
machine hands it, writes the tables the SQL creates as Parquet under ``s3://<analytics>/<team>/<dataset>/<table>/``
and registers them in the dataset's Glue database. ``sdlf run --local`` runs the same SQL with DuckDB.

Job arguments (set by the state machine and the job's defaults):
  --manifest          s3:// URI of a JSON list of the batch's staged objects (``s3://bucket/key`` strings)
  --team, --dataset   the dataset
  --database          its Glue database
  --execution-id      id of the stage B execution (names this run's Parquet files)
  --analytics-bucket  where the tables go
  --transform-sql     s3:// URI of the SQL (sdlf deploys transform.sql as an asset and sets it); without it, a
                      transform.sql in the working directory or beside this script

The transform.sql convention (the same as ``src/runtime/core/sql.ts`` of sdlf, which the local run uses):
  * Before the SQL runs, every input table of the batch is a view named after the table: the folder after
    ``<team>/<dataset>/`` in the stage bucket (``persons``, ``memberships``...), over exactly the batch's files.
  * Statements are separated by ``;``. ``--`` and ``/* */`` comments are ignored; a ``;`` inside quotes
    (``'...'``, ``"..."``, backticks) does not separate.
  * ``CREATE TABLE <name> [PARTITIONED BY (<col>[, <col>...])] AS <select>`` produces an output table, written as
    Parquet (Hive-style ``col=value/`` folders when partitioned) and registered in the Glue catalog. It is also a
    view for the statements after it.
  * ``CREATE [TEMP|TEMPORARY] VIEW <name> AS <select>`` defines an intermediate view that is not written.
  * ``<name>`` is lowercase letters, digits and ``_``, starting with a letter or ``_``; a ``<select>`` starts with
    SELECT, WITH or ``(`` and should be SQL that Spark and DuckDB both run.
  * A batch holds the files that arrived since the last one, so it may lack a table the SQL reads. A statement
    whose query reads a table or view that does not exist in this run (no staged files of that table in the
    batch, or a statement skipped for that reason) is skipped, and listed under "skipped" in the job result; the
    other statements still run. Any other SQL error fails the job.
  * Writes are append-only per run and idempotent: this run's files are named ``<execution-id>-<n>.parquet``.
    Before writing a table, the run deletes only the files of that table whose names start with its execution id
    (a rerun of the same batch). Files of other runs are never deleted or rewritten, and there are no job
    bookmarks.

Replace this file with any PySpark code if the convention does not fit; keep reading the manifest, so that each
run processes exactly its batch.
"""

import json
import posixpath
import re
import sys
from urllib.parse import unquote

# ---------------------------------------------------------------------------------------------------------------
# Pure helpers: no Spark, no AWS. sdlf's tests run them with plain python3.
# ---------------------------------------------------------------------------------------------------------------

NAME = r"([a-z_][a-z0-9_]*)"
TABLE_STATEMENT = re.compile(
    r"^create\s+table\s+" + NAME + r"\s*(?:partitioned\s+by\s*\(([^)]*)\)\s*)?as\s+([\s\S]+)$", re.IGNORECASE
)
VIEW_STATEMENT = re.compile(r"^create\s+(?:(?:temp|temporary)\s+)?view\s+" + NAME + r"\s+as\s+([\s\S]+)$", re.IGNORECASE)
SELECT_BODY = re.compile(r"^(?:(?:select|with)(?![a-z0-9_])|\()", re.IGNORECASE)
COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
RESULT_SUFFIX = ".result.json"


class TransformSqlError(Exception):
    """A transform.sql that does not follow the convention; names the file and line."""

    def __init__(self, file, line, reason):
        super().__init__("%s:%d: %s" % (file, line, reason))
        self.file = file
        self.line = line
        self.reason = reason


class ManifestError(Exception):
    """A manifest that is not a JSON list of the dataset's staged objects."""


class StagedObjectError(Exception):
    """Staged objects of an input table that Spark cannot read as JSON Lines; names the table, its objects and
    Spark's reason (its Java exception's first line that says what is wrong)."""

    def __init__(self, table, uris, error):
        reason = next(
            (line.strip() for line in str(error).splitlines() if "Malformed" in line or "Exception:" in line),
            str(error).splitlines()[0] if str(error) else type(error).__name__,
        )
        shown = ", ".join(uris[:3]) + (" and %d more" % (len(uris) - 3) if len(uris) > 3 else "")
        super().__init__("the staged objects of table %s are not readable JSON Lines (%s): %s" % (table, shown, reason))


def split_statements(text, file="transform.sql"):
    """Splits SQL on ``;`` outside quotes and comments; drops comments; returns ``[(sql, line)]``."""
    out = []
    current = []
    line = 1
    start_line = None
    i = 0
    n = len(text)

    def push():
        sql = "".join(current).strip()
        if sql:
            out.append((sql, start_line if start_line is not None else line))

    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if ch == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            if end < 0:
                raise TransformSqlError(file, line, "a /* comment is never closed.")
            line += text.count("\n", i, end + 2)
            current.append(" ")
            i = end + 2
            continue
        if ch in ("'", '"', "`"):
            open_line = line
            j = i + 1
            while True:
                if j >= n:
                    raise TransformSqlError(file, open_line, "a %s quote is never closed." % ch)
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                if text[j] == "\\" and ch != "`":
                    j += 1
                j += 1
            quoted = text[i : j + 1]
            line += quoted.count("\n")
            if start_line is None:
                start_line = open_line
            current.append(quoted)
            i = j + 1
            continue
        if ch == ";":
            push()
            current = []
            start_line = None
            i += 1
            continue
        if ch == "\n":
            line += 1
        elif start_line is None and not ch.isspace():
            start_line = line
        current.append(ch)
        i += 1
    push()
    return out


def parse_transform_sql(text, file="transform.sql"):
    """Parses a transform.sql by the convention; returns a list of statement dicts.

    Each is ``{"kind": "table", "name", "partitionBy": [...], "select", "line"}`` or
    ``{"kind": "view", "name", "select", "line"}``. Raises TransformSqlError for anything else.
    """
    statements = []
    names = set()
    for sql, line in split_statements(text, file):
        table = TABLE_STATEMENT.match(sql)
        view = None if table else VIEW_STATEMENT.match(sql)
        if not table and not view:
            raise TransformSqlError(
                file,
                line,
                'expected "CREATE TABLE <name> [PARTITIONED BY (<col>)] AS SELECT ..." or "CREATE VIEW <name> AS '
                'SELECT ...", found "%s". Names are lowercase letters, digits and _.' % sql[:60],
            )
        match = table or view
        name = match.group(1).lower()
        select = (table.group(3) if table else view.group(2)).strip()
        if not SELECT_BODY.match(select):
            raise TransformSqlError(file, line, 'the body of "%s" must be a SELECT or WITH query.' % name)
        if name in names:
            raise TransformSqlError(file, line, '"%s" is defined twice.' % name)
        names.add(name)
        if table:
            raw = table.group(2)
            columns = [c.strip().lower() for c in (raw or "").split(",") if c.strip()]
            if raw is not None and not columns:
                raise TransformSqlError(file, line, 'PARTITIONED BY of "%s" names no column.' % name)
            for column in columns:
                if not COLUMN.match(column):
                    raise TransformSqlError(
                        file, line, 'partition column "%s" of "%s" is not a plain column name.' % (column, name)
                    )
            statements.append({"kind": "table", "name": name, "partitionBy": columns, "select": select, "line": line})
        else:
            statements.append({"kind": "view", "name": name, "select": select, "line": line})
    if not any(s["kind"] == "table" for s in statements):
        raise TransformSqlError(file, 1, 'no "CREATE TABLE <name> AS SELECT ..." statement: the transform would write nothing.')
    return statements


def parse_job_args(argv):
    """Reads ``--name value`` / ``--name=value`` job arguments into a dict keyed by name with ``-`` as ``_``.

    Glue's getResolvedOptions only resolves names spelled with underscores; sdlf's state machine passes
    ``--execution-id`` and friends, so the runner reads its arguments itself.
    """
    args = {}
    i = 1
    while i < len(argv):
        token = argv[i]
        if token.startswith("--"):
            key, eq, value = token[2:].partition("=")
            if not eq:
                if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                    value = argv[i + 1]
                    i += 1
                else:
                    value = ""
            args[key.replace("-", "_")] = value
        i += 1
    return args


def require_args(args, names):
    """Returns the named arguments; raises ValueError listing every one that is missing or empty."""
    missing = [name for name in names if not args.get(name)]
    if missing:
        raise ValueError("missing job argument(s): %s" % ", ".join("--" + m.replace("_", "-") for m in missing))
    return {name: args[name] for name in names}


def split_s3_uri(uri):
    """Splits ``s3://bucket/key`` into ``(bucket, key)``; raises ValueError for anything else."""
    match = re.match(r"^s3://([^/]+)/(.*)$", uri or "")
    if not match:
        raise ValueError('"%s" is not an s3://bucket/key URI' % uri)
    return match.group(1), match.group(2)


def parse_manifest(text, team, dataset):
    """Reads a batch manifest and groups its objects by input table.

    The manifest is a JSON list of ``s3://bucket/key`` strings, each key under ``<team>/<dataset>/<table>/``.
    Returns ``{table: [uri, ...]}`` in manifest order, without duplicates. Raises ManifestError naming the
    offending entry.
    """
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise ManifestError("the manifest is not JSON: %s" % error)
    if not isinstance(entries, list) or not entries:
        raise ManifestError("the manifest must be a non-empty JSON list of s3:// URIs")
    prefix = "%s/%s/" % (team, dataset)
    tables = {}
    seen = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            raise ManifestError("entry %d of the manifest is not a string: %r" % (index + 1, entry))
        try:
            _, key = split_s3_uri(entry)
        except ValueError as error:
            raise ManifestError("entry %d of the manifest: %s" % (index + 1, error))
        rest = key[len(prefix) :] if key.startswith(prefix) else None
        parts = rest.split("/") if rest else []
        if len(parts) < 2 or not parts[0] or not parts[-1]:
            raise ManifestError(
                'entry %d of the manifest, "%s", is not a staged object under %s<table>/' % (index + 1, entry, prefix)
            )
        if entry in seen:
            continue
        seen.add(entry)
        tables.setdefault(parts[0], []).append(entry)
    return tables


MISSING_RELATION = re.compile(
    r"(?:The table or view (\S+) cannot be found|Table or view not found: ([^\s;,]+))", re.IGNORECASE
)


def missing_relation(message):
    """Returns the table or view a Spark analysis error says is missing (its last name part), or None."""
    match = MISSING_RELATION.search(message or "")
    if not match:
        return None
    name = match.group(1) or match.group(2)
    return name.split(".")[-1].strip("`").lower()


def result_key_of(manifest_key):
    """Key of the job result written beside the manifest: ``<manifest>.result.json``."""
    return re.sub(r"\.json$", "", manifest_key) + RESULT_SUFFIX


def output_file_name(execution_id, index):
    """Name of this run's n-th Parquet file of a folder: ``<execution-id>-<nnnnn>.parquet``."""
    return "%s-%05d.parquet" % (execution_id, index)


def is_own_file(key, execution_id):
    """Tells whether a key is a file this execution wrote (its file name starts with ``<execution-id>-``)."""
    return posixpath.basename(key).startswith(execution_id + "-")


def plan_copies(staged_keys, staging_prefix, table_prefix, execution_id):
    """Maps Spark's output files under the staging prefix to this run's names under the table prefix.

    Keeps the ``col=value/`` folders, ignores ``_SUCCESS`` and other non-Parquet files, and numbers the files of
    each folder in key order. Returns ``[(staged_key, final_key)]``.
    """
    by_folder = {}
    for key in sorted(staged_keys):
        if not key.startswith(staging_prefix) or not key.endswith(".parquet"):
            continue
        relative = key[len(staging_prefix) :]
        folder = posixpath.dirname(relative)
        by_folder.setdefault(folder, []).append(key)
    plan = []
    for folder in sorted(by_folder):
        for index, key in enumerate(by_folder[folder]):
            name = output_file_name(execution_id, index)
            plan.append((key, table_prefix + (folder + "/" if folder else "") + name))
    return plan


def partition_values(folder, columns):
    """Reads the partition values of a ``col=value/...`` folder (Hive escaping undone), in column order.

    Raises ValueError when the folder does not name exactly the partition columns.
    """
    parts = [p for p in folder.split("/") if p]
    if len(parts) != len(columns):
        raise ValueError('folder "%s" does not match the partition columns %s' % (folder, ", ".join(columns)))
    values = []
    for part, column in zip(parts, columns):
        name, eq, value = part.partition("=")
        if not eq or unquote(name) != column:
            raise ValueError('folder "%s" does not match the partition columns %s' % (folder, ", ".join(columns)))
        values.append(unquote(value))
    return values


def merge_columns(existing, new):
    """Merges catalog columns: the new types win, columns only the old schema had are kept (as nulls for new files)."""
    new_by_name = {c["Name"]: c for c in new}
    merged = [new_by_name.get(c["Name"], c) for c in existing]
    known = {c["Name"] for c in existing}
    merged.extend(c for c in new if c["Name"] not in known)
    return merged


def table_input(name, location, columns, partition_keys, execution_id):
    """The Glue ``TableInput`` of a Parquet table at ``location``."""
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE", "sdlf:lastExecution": execution_id},
        "PartitionKeys": partition_keys,
        "StorageDescriptor": {
            "Columns": columns,
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# Where the job reads and writes: S3 and the Glue catalog on AWS; folders of the local lake in
# ``sdlf run --local --engine spark``. The job's logic below is the same for both.
# ---------------------------------------------------------------------------------------------------------------


class S3Storage:
    """The job's objects in S3, through boto3; Spark reads and writes ``s3://`` URIs (EMRFS on Glue)."""

    def __init__(self, client=None):
        import boto3

        self.s3 = client or boto3.client("s3")

    def read_text(self, bucket, key):
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")

    def write_text(self, bucket, key, text):
        self.s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")

    def list_keys(self, bucket, prefix):
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return keys

    def delete_keys(self, bucket, keys):
        for at in range(0, len(keys), 1000):
            chunk = keys[at : at + 1000]
            response = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(
                    "could not delete %d object(s) of s3://%s: %s" % (len(response["Errors"]), bucket, response["Errors"][:3])
                )

    def copy(self, bucket, source, target):
        self.s3.copy({"Bucket": bucket, "Key": source}, bucket, target)

    def spark_uri(self, bucket, key):
        return "s3://%s/%s" % (bucket, key)


class LocalStorage:
    """The local lake of ``sdlf run --local --engine spark``: one folder per bucket, an object per file at its key."""

    def __init__(self, buckets):
        import os

        self.buckets = {name: os.path.abspath(folder) for name, folder in buckets.items()}

    def path_of(self, bucket, key):
        import os

        if bucket not in self.buckets:
            raise ValueError('bucket "%s" is not part of the local lake (%s)' % (bucket, ", ".join(sorted(self.buckets))))
        root = self.buckets[bucket]
        path = os.path.normpath(os.path.join(root, key))
        if not path.startswith(root + os.sep):
            raise ValueError('key "%s" leaves the folder of bucket %s' % (key, bucket))
        return path

    def read_text(self, bucket, key):
        with open(self.path_of(bucket, key), encoding="utf-8") as handle:
            return handle.read()

    def write_text(self, bucket, key, text):
        import os

        path = self.path_of(bucket, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = path + ".sdlf-tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)

    def list_keys(self, bucket, prefix):
        import os

        root = self.buckets.get(bucket)
        keys = []
        if root is None or not os.path.isdir(root):
            return keys
        for folder, _, files in os.walk(root):
            for name in files:
                key = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete_keys(self, bucket, keys):
        import os

        root = self.buckets[bucket]
        folders = set()
        for key in keys:
            path = self.path_of(bucket, key)
            if os.path.exists(path):
                os.remove(path)
            folders.add(os.path.dirname(path))
        # Folders left empty go too, as prefixes do in S3 (deepest first, never the bucket's own folder).
        for folder in sorted(folders, key=len, reverse=True):
            while folder != root and folder.startswith(root + os.sep) and os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
                folder = os.path.dirname(folder)

    def copy(self, bucket, source, target):
        import os
        import shutil

        path = self.path_of(bucket, target)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(self.path_of(bucket, source), path + ".sdlf-tmp")
        os.replace(path + ".sdlf-tmp", path)

    def spark_uri(self, bucket, key):
        folder = key.strip("/")
        path = self.path_of(bucket, folder) if folder else self.buckets[bucket]
        return "file://" + path + ("/" if key.endswith("/") else "")


class GlueCatalog:
    """Tables in the Glue Data Catalog, through boto3."""

    def __init__(self, client=None):
        import boto3

        self.glue = client or boto3.client("glue")

    def get_table(self, database, name):
        try:
            return self.glue.get_table(DatabaseName=database, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def put_table(self, database, table, exists):
        if exists:
            self.glue.update_table(DatabaseName=database, TableInput=table)
        else:
            self.glue.create_table(DatabaseName=database, TableInput=table)

    def add_partitions(self, database, name, inputs):
        for at in range(0, len(inputs), 100):
            response = self.glue.batch_create_partition(DatabaseName=database, TableName=name, PartitionInputList=inputs[at : at + 100])
            errors = [e for e in response.get("Errors", []) if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
            if errors:
                raise RuntimeError("could not register partitions of %s.%s: %s" % (database, name, errors[:3]))


class LocalCatalog:
    """The local lake's catalog: ``<folder>/<database>/<table>.json`` holds the Glue TableInput and its partitions."""

    def __init__(self, folder):
        self.folder = folder

    def _path(self, database, name):
        import os

        return os.path.join(self.folder, database, name + ".json")

    def get_table(self, database, name):
        import os

        path = self._path(database, name)
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    def _write(self, database, name, document):
        import os

        path = self._path(database, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".sdlf-tmp", "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, sort_keys=True)
            handle.write("\n")
        os.replace(path + ".sdlf-tmp", path)

    def put_table(self, database, table, exists):
        previous = self.get_table(database, table["Name"]) or {}
        self._write(database, table["Name"], dict(table, Partitions=previous.get("Partitions", [])))

    def add_partitions(self, database, name, inputs):
        document = self.get_table(database, name)
        known = {tuple(p["Values"]) for p in document.get("Partitions", [])}
        document["Partitions"] = document.get("Partitions", []) + [p for p in inputs if tuple(p["Values"]) not in known]
        self._write(database, name, document)


def local_lake(path):
    """Reads the local lake description that ``sdlf run --local --engine spark`` passes as ``--sdlf-local-lake``:
    ``{"buckets": {name: folder}, "catalog": folder}``. Returns ``(storage, catalog)``."""
    with open(path, encoding="utf-8") as handle:
        lake = json.load(handle)
    if not isinstance(lake.get("buckets"), dict) or not isinstance(lake.get("catalog"), str):
        raise ValueError('%s must hold {"buckets": {name: folder}, "catalog": folder}' % path)
    return LocalStorage(lake["buckets"]), LocalCatalog(lake["catalog"])


# ---------------------------------------------------------------------------------------------------------------
# The Glue job.
# ---------------------------------------------------------------------------------------------------------------


def _read_sql(storage, args, file_name="transform.sql"):
    import os

    override = args.get("transform_sql")
    if override:
        bucket, key = split_s3_uri(override)
        return storage.read_text(bucket, key), override
    # Without --transform-sql: a transform.sql in the working directory, or beside the script.
    for folder in (os.getcwd(), os.path.dirname(os.path.abspath(__file__))):
        path = os.path.join(folder, file_name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                return handle.read(), path
    raise FileNotFoundError(
        "transform.sql was not shipped with the job: pass --transform-sql s3://... or put it in %s" % os.getcwd()
    )


def _register_table(catalog, database, name, location, df_schema, partition_by, execution_id, partitions):
    fields = {f.name: f.dataType.simpleString() for f in df_schema.fields}
    columns = [{"Name": n, "Type": t} for n, t in fields.items() if n not in partition_by]
    partition_keys = [{"Name": c, "Type": fields.get(c, "string")} for c in partition_by]
    existing = catalog.get_table(database, name)
    if existing is None:
        catalog.put_table(database, table_input(name, location, columns, partition_keys, execution_id), False)
    else:
        old_columns = existing.get("StorageDescriptor", {}).get("Columns", [])
        old_keys = [k["Name"] for k in existing.get("PartitionKeys", [])]
        if old_keys != list(partition_by):
            raise ValueError(
                'table %s.%s is partitioned by (%s) in the catalog, but transform.sql asks for (%s); '
                "write it under another name or drop the catalog table first" % (database, name, ", ".join(old_keys), ", ".join(partition_by))
            )
        merged = merge_columns(old_columns, columns)
        catalog.put_table(database, table_input(name, location, merged, partition_keys, execution_id), True)
    if not partition_by or not partitions:
        return
    storage = table_input(name, location, columns, partition_keys, execution_id)["StorageDescriptor"]
    inputs = []
    for folder in partitions:
        descriptor = dict(storage, Location=location + folder + "/")
        inputs.append({"Values": partition_values(folder, partition_by), "StorageDescriptor": descriptor})
    catalog.add_partitions(database, name, inputs)


def _spark_session(args):
    """The Spark session and Glue job: GlueContext on AWS Glue; a plain SparkSession where awsglue is absent
    (``sdlf run --local --engine spark`` and sdlf's tests), configured by spark-defaults.conf / SPARK_CONF_DIR."""
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
    except ImportError:
        from pyspark.sql import SparkSession

        return SparkSession.builder.appName(args.get("JOB_NAME", "sdlf-heavy-transform")).getOrCreate(), None
    from pyspark.context import SparkContext

    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args.get("JOB_NAME", "sdlf-heavy-transform"), args)
    return glue_context.spark_session, job


def run(argv):
    """Runs the job: reads the manifest, runs transform.sql, writes and registers the tables, writes the result."""
    args = parse_job_args(argv)
    required = require_args(args, ["manifest", "team", "dataset", "database", "execution_id", "analytics_bucket"])
    team, dataset, database = required["team"], required["dataset"], required["database"]
    execution_id, analytics = required["execution_id"], required["analytics_bucket"]

    if args.get("sdlf_local_lake"):
        storage, catalog = local_lake(args["sdlf_local_lake"])
    else:
        storage, catalog = S3Storage(), GlueCatalog()
    manifest_bucket, manifest_key = split_s3_uri(required["manifest"])
    inputs = parse_manifest(storage.read_text(manifest_bucket, manifest_key), team, dataset)
    sql_text, sql_file = _read_sql(storage, args)
    statements = parse_transform_sql(sql_text, sql_file)

    spark, job = _spark_session(args)
    # Parquet timestamps as the standard's microseconds, not Spark's legacy INT96: what every reader (Athena, DuckDB,
    # pandas) reads the same, and what sdlf's local DuckDB engine writes.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    for table, uris in inputs.items():
        paths = [storage.spark_uri(*split_s3_uri(uri)) for uri in uris]
        try:
            spark.read.option("mode", "FAILFAST").json(paths).createOrReplaceTempView(table)
        except Exception as error:  # noqa: BLE001 - Spark raises Py4JJavaError, whose first line says nothing
            raise StagedObjectError(table, uris, error)
        print("sdlf: input view %s over %d staged object(s)" % (table, len(uris)))

    dataset_prefix = "%s/%s/" % (team, dataset)
    staging_root = "%s_sdlf_staging/%s/" % (dataset_prefix, execution_id)
    results = []
    skipped = []
    for statement in statements:
        name = statement["name"]
        try:
            df = spark.sql(statement["select"])
        except Exception as error:  # noqa: BLE001 - Spark's analysis errors are not importable portably
            missing = missing_relation(str(error))
            if missing is None:
                raise TransformSqlError(sql_file, statement["line"], "%s: %s" % (name, error))
            reason = "reads %s, which this batch does not have" % missing
            skipped.append({"name": name, "reason": reason})
            print("sdlf: skipped %s: %s" % (name, reason))
            continue
        if statement["kind"] == "view":
            df.createOrReplaceTempView(name)
            continue
        partition_by = statement["partitionBy"]
        missing = [c for c in partition_by if c not in df.columns]
        if missing:
            raise TransformSqlError(sql_file, statement["line"], '"%s" has no column(s) %s to partition by' % (name, ", ".join(missing)))
        table_prefix = "%s%s/" % (dataset_prefix, name)
        staging_prefix = "%s%s/" % (staging_root, name)
        storage.delete_keys(analytics, storage.list_keys(analytics, staging_prefix))
        writer = df.write.mode("overwrite").format("parquet")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.save(storage.spark_uri(analytics, staging_prefix))

        copies = plan_copies(storage.list_keys(analytics, staging_prefix), staging_prefix, table_prefix, execution_id)
        # A rerun of this batch replaces only its own earlier files; other runs' files stay.
        previous = [k for k in storage.list_keys(analytics, table_prefix) if is_own_file(k, execution_id)]
        storage.delete_keys(analytics, previous)
        for staged, final in copies:
            storage.copy(analytics, staged, final)
        storage.delete_keys(analytics, storage.list_keys(analytics, staging_prefix))

        location = "s3://%s/%s" % (analytics, table_prefix)
        partitions = sorted({posixpath.dirname(final[len(table_prefix) :]) for _, final in copies} - {""})
        if copies:
            written = spark.read.option("basePath", storage.spark_uri(analytics, table_prefix)).parquet(
                *[storage.spark_uri(analytics, f) for _, f in copies]
            )
            records = written.count()
        else:
            written = spark.createDataFrame([], df.schema)
            records = 0
        # Later statements read the table as written, not its query again (which may read a view it replaced).
        written.createOrReplaceTempView(name)
        _register_table(catalog, database, name, location, df.schema, partition_by, execution_id, partitions)
        results.append(
            {
                "table": name,
                "location": location,
                "partitionBy": partition_by,
                "partitions": partitions,
                "files": len(copies),
                "records": records,
            }
        )
        print("sdlf: wrote %s (%d record(s), %d file(s)) to %s" % (name, records, len(copies), location))

    result = {"executionId": execution_id, "tables": results, "skipped": skipped}
    storage.write_text(manifest_bucket, result_key_of(manifest_key), json.dumps(result, indent=1))
    if job is not None:
        job.commit()
    return result


if __name__ == "__main__":
    run(sys.argv)
