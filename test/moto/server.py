"""moto_server for the sdlf integration tests, with the moto defects they hit patched.

Usage: python3 test/moto/server.py PORT

Serves on 127.0.0.1 only, like `moto_server -H 127.0.0.1 -p PORT`. Each patch below names a defect of moto and the
behaviour of real AWS it restores; they change nothing else. They are written against moto 5.2.1, and the script
refuses another version so that a moto upgrade is a deliberate change here, not a silent one.
"""

import json
import os
import re
import sys
import time

import moto
from moto.server import main

PINNED = "5.2.1"


def kms_key_from_template() -> None:
    """AWS::KMS::Key, two defects:
    - moto passes the template's Tags ([{Key, Value}]) straight to KMS, which expects [{TagKey, TagValue}], so
      CreateKey fails with KeyError 'TagKey', the change set execution returns 500 and the resources after the key
      are never created;
    - moto keeps the template's KeyPolicy as a parsed object, and every key-policy check (DescribeKey,
      ScheduleKeyDeletion, ...) then fails with a 500 (json.loads of a dict).
    CloudFormation creates the key with those tags and stores its policy as the JSON document KMS returns."""
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = dict(cloudformation_json["Properties"])
        if properties.get("Tags"):
            properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties["Tags"]]
        if isinstance(properties.get("KeyPolicy"), dict):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        template = {**cloudformation_json, "Properties": properties}
        return original(cls, resource_name, template, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create)


def cfn_tags_to_ssm_tags() -> None:
    """AWS::SSM::Parameter: the template's Tags are a JSON object ({key: value}), but moto iterates them as a list of
    {Key, Value}, so PutParameter fails after storing the value and the change set execution returns 500.
    CloudFormation creates the parameter with those tags."""
    from moto.ssm.models import Parameter

    original = Parameter.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = dict(cloudformation_json["Properties"])
        if isinstance(properties.get("Tags"), dict):
            properties["Tags"] = [{"Key": k, "Value": v} for k, v in properties["Tags"].items()]
        template = {**cloudformation_json, "Properties": properties}
        return original(cls, resource_name, template, account_id, region_name, **kwargs)

    Parameter.create_from_cloudformation_json = classmethod(create)


def change_sets_per_stack() -> None:
    """DescribeChangeSet, DeleteChangeSet and ExecuteChangeSet: moto looks a change set name up across every stack of
    the region and ignores StackName, so with the toolkit's one name (cdk-deploy-change-set) for every stack,
    deleting the previous change set of one stack deletes another stack's, and the toolkit then waits forever for
    it to be gone (a second deploy hangs). An unknown change set is a ValidationError ("Stack with id ... does not
    exist") to describe, and a 500 (UnboundLocalError) to delete. CloudFormation scopes a change set name to its
    stack, answers ChangeSetNotFoundException (HTTP 404) for an unknown one, and accepts deleting a change set that
    is already gone while the stack exists. And moto executes an update change set without evaluating the new
    template's Outputs (DescribeStacks keeps answering the outputs of the template the stack was created with);
    CloudFormation answers the outputs of the template it deployed."""
    from moto.cloudformation.exceptions import CloudFormationError
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult, EmptyResult

    class ChangeSetNotFound(CloudFormationError):
        code = "ChangeSetNotFoundException"

    def find(backend, change_set_name, stack_name):
        if change_set_name in backend.change_sets:  # an ARN
            return backend.change_sets[change_set_name]
        for change_set in backend.change_sets.values():
            stack = backend.stacks.get(change_set.stack_id)
            if change_set.change_set_name == change_set_name and stack and stack_name in (stack.name, stack.stack_id):
                return change_set
        raise ChangeSetNotFound(f"ChangeSet [{change_set_name}] does not exist")

    def describe_change_set(self, change_set_name, stack_name=None):
        return find(self, change_set_name, stack_name)

    def delete_change_set(self, change_set_name, stack_name=None):
        try:
            change_set = find(self, change_set_name, stack_name)
        except ChangeSetNotFound:
            return
        del self.change_sets[change_set.change_set_id]

    original_execute = CloudFormationBackend.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = find(self, change_set_name, stack_name)
        result = original_execute(self, change_set.change_set_id, stack_name)
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        return result

    CloudFormationBackend.describe_change_set = describe_change_set
    CloudFormationBackend.delete_change_set = delete_change_set
    CloudFormationBackend.execute_change_set = execute_change_set

    def describe_response(self):
        change_set = self.cloudformation_backend.describe_change_set(
            self._get_param("ChangeSetName"), self._get_param("StackName")
        )
        return ActionResult(change_set)

    def delete_response(self):
        self.cloudformation_backend.delete_change_set(self._get_param("ChangeSetName"), self._get_param("StackName"))
        return EmptyResult()

    CloudFormationResponse.describe_change_set = describe_response
    CloudFormationResponse.delete_change_set = delete_response


def step_functions_execute() -> None:
    """Step Functions: moto only interprets state machines when its "execute_state_machine" setting is on, and then
    copies the state machine with each StartExecution (copy.deepcopy), executions and backend included, which fails
    from the second execution on (an execution holds a lock: "cannot pickle '_thread.RLock' object", HTTP 500).
    Real Step Functions runs every execution; the copy here keeps executions and the backend shared, and state
    machines that CloudFormation creates are the ones the API runs. The interpreter calls other services at
    localhost:MOTO_PORT, so the launcher sets MOTO_PORT to its port."""
    import copy

    from moto.core.config import default_user_config
    from moto.stepfunctions.models import StateMachine

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    # With the setting on, the API serves state machines from the interpreter's backend, but CloudFormation and the
    # tagging API still create and list them in the plain one: point both at the interpreter's.
    import moto.resourcegroupstaggingapi.models as tagging
    import moto.stepfunctions.models as plain
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    plain.stepfunctions_backends = stepfunctions_parser_backends
    tagging.stepfunctions_backends = stepfunctions_parser_backends

    def deepcopy(self, memo):
        clone = self.__class__.__new__(self.__class__)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, value if name in ("executions", "backend") else copy.deepcopy(value, memo))
        return clone

    StateMachine.__deepcopy__ = deepcopy


def lambda_runs_locally() -> None:
    """Lambda Invoke: moto runs function code only in Docker, which these machines do not have. The test setup runs a
    local Lambda runtime (test/moto/lambda-runtime.mjs) and gives its URL in SDLF_LAMBDA_RUNTIME_URL; each invocation
    (Invoke, a Step Functions task, an event source) is sent there with the function's deployed code (unzipped once
    per code digest), handler, environment and timeout, and its result or error comes back as Lambda's. Without the
    variable, moto's own behaviour stays."""
    import hashlib
    import io
    import os
    import shutil
    import tempfile
    import urllib.request
    import zipfile

    from moto.awslambda.models import LambdaFunction

    url = os.environ.get("SDLF_LAMBDA_RUNTIME_URL")
    if not url:
        return

    def code_dir(function):
        root = os.path.join(tempfile.gettempdir(), "sdlf-moto-lambda")
        os.makedirs(root, exist_ok=True)
        target = os.path.join(root, hashlib.sha256(function.code_bytes).hexdigest())
        if not os.path.isdir(target):
            staging = tempfile.mkdtemp(dir=root)
            zipfile.ZipFile(io.BytesIO(function.code_bytes)).extractall(staging)
            try:
                os.rename(staging, target)
            except OSError:  # extracted by a concurrent invocation
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def invoke(self, event=None):
        request = {
            "functionName": self.function_name,
            "functionArn": self.function_arn,
            "handler": self.handler,
            "codeDir": code_dir(self),
            "environment": dict(self.environment_vars or {}),
            "event": json.loads(event) if isinstance(event, (str, bytes)) else (event if event is not None else {}),
            "region": self.region,
            "timeout": self.timeout,
            "memory": self.memory_size,
        }
        call = urllib.request.Request(
            url, data=json.dumps(request).encode(), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(call, timeout=int(self.timeout or 3) + 30) as response:
            outcome = json.loads(response.read())
        return outcome["payload"], outcome["errored"], ""

    LambdaFunction._invoke_lambda = invoke


def glue_runs_jobs_locally() -> None:
    """Glue StartJobRun: moto records a run that goes STARTING → RUNNING → SUCCEEDED without running anything. When
    the test setup names the Spark jars in SDLF_SPARK_JARS (hadoop-aws and the AWS SDK bundle that Spark 3.5's
    Hadoop 3.3.4 needs), a run executes the job's script from S3 on real PySpark (local[2], ``s3://`` through S3A
    against this server), in a working directory holding its --extra-files, with the run's arguments as Glue passes
    them. As on Glue, StartJobRun returns at once and the run finishes later: GetJobRun says RUNNING until the
    script ends, then SUCCEEDED, or FAILED with the script's error as ErrorMessage, or TIMEOUT when it outlives the
    run's (or the job's) Timeout in minutes; SDLF_GLUE_SECONDS_PER_MINUTE scales that minute for tests (default 60).
    Without SDLF_SPARK_JARS, moto's own behaviour stays. Spark's output of each run is kept in
    $TMPDIR/sdlf-moto-glue-logs/<run id>.log.

    BatchStopJobRun, which moto lacks, stops a run as Glue does: a STARTING or RUNNING run is STOPPING at once,
    its script and the Spark JVM it started are killed (the run's process group), and the run ends STOPPED; a run
    that has already ended is listed under Errors, as is an unknown run id."""
    import subprocess
    import tempfile
    import threading

    import atexit
    import signal

    import boto3
    from moto.glue.models import FakeJob, FakeJobRun, GlueBackend
    from moto.glue.responses import GlueResponse

    jars = os.environ.get("SDLF_SPARK_JARS")
    if not jars:
        return
    seconds_per_minute = float(os.environ.get("SDLF_GLUE_SECONDS_PER_MINUTE", "60"))
    logs = os.path.join(tempfile.gettempdir(), "sdlf-moto-glue-logs")
    os.makedirs(logs, exist_ok=True)
    original_start = FakeJob.start_job_run
    original_status = FakeJobRun.status

    def download(s3, uri, target):
        bucket, _, key = uri[len("s3://") :].partition("/")
        s3.download_file(bucket, key, target)

    https = {}

    def https_endpoint():
        """Serves this moto_server over HTTPS too (a self-signed certificate, on a free port) for the jobs' S3A: S3
        is HTTPS, and the AWS SDK of S3A refuses SSE-KMS requests over HTTP (a copy of a KMS-encrypted object sends
        the source's key id), which plain-HTTP moto would turn into job failures that Glue does not have."""
        with lock:
            if "url" not in https:
                from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
                from werkzeug.serving import make_server

                server = make_server(
                    "127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True, ssl_context="adhoc"
                )
                threading.Thread(target=server.serve_forever, daemon=True).start()
                https["url"] = "https://127.0.0.1:%d" % server.server_port
            return https["url"]

    def spark_submit_args(endpoint):
        conf = {
            "spark.jars": jars,
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.session.timeZone": "UTC",
            "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
            "spark.hadoop.fs.s3a.endpoint": endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": "true",
            # The HTTPS listener's certificate is self-signed (see https_endpoint).
            "spark.driver.extraJavaOptions": "-Dcom.amazonaws.sdk.disableCertChecking=true",
            "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "spark.hadoop.fs.s3a.access.key": "testing",
            "spark.hadoop.fs.s3a.secret.key": "testing",
        }
        return " ".join(["--master local[2]"] + ["--conf %s=%s" % item for item in conf.items()] + ["pyspark-shell"])

    def execute(job, run, run_id, kwargs):
        endpoint = "http://127.0.0.1:%s" % os.environ["MOTO_PORT"]
        credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        try:
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **{k.lower(): v for k, v in credentials.items()})
            workdir = tempfile.mkdtemp(prefix="sdlf-glue-run-")
            script = os.path.join(workdir, "main.py")
            download(s3, job.command["ScriptLocation"], script)
            arguments = dict(job.default_arguments or {})
            arguments.update(run.arguments or {})
            for uri in filter(None, arguments.get("--extra-files", "").split(",")):
                download(s3, uri, os.path.join(workdir, uri.rsplit("/", 1)[-1]))
            argv = ["--JOB_NAME", job.name, "--JOB_RUN_ID", run_id]
            for name, value in arguments.items():
                argv += [name, value]
            minutes = kwargs.get("timeout") or job.timeout or 2880
            with open(os.path.join(logs, run_id + ".log"), "w") as log:
                process = subprocess.Popen(
                    [sys.executable, "-B", script, *argv],
                    cwd=workdir,
                    env={
                        **os.environ,
                        **credentials,
                        "AWS_ENDPOINT_URL": endpoint,
                        # The job's clients (S3, the Glue catalog) work in the job's region, as on Glue.
                        "AWS_DEFAULT_REGION": job.backend.region_name,
                        "AWS_REGION": job.backend.region_name,
                        "PYSPARK_SUBMIT_ARGS": spark_submit_args(https_endpoint()),
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                    # Its own process group: stopping or timing out the run kills the Spark JVM too.
                    start_new_session=True,
                )
                with lock:
                    run.sdlf_process = process
                    running.add(process)
                    stopping = run.sdlf_state == "STOPPING"
                if stopping:
                    kill(process)
                try:
                    code = process.wait(timeout=float(minutes) * seconds_per_minute)
                except subprocess.TimeoutExpired:
                    kill(process)
                    process.wait()
                    with lock:
                        running.discard(process)
                    run.sdlf_error = "Job run timed out after %s minute(s)" % minutes
                    run.sdlf_state = "TIMEOUT"
                    return
            with lock:
                running.discard(process)
                if run.sdlf_state == "STOPPING":
                    run.sdlf_state = "STOPPED"
                    return
            if code == 0:
                run.sdlf_state = "SUCCEEDED"
                return
            with open(os.path.join(logs, run_id + ".log")) as log:
                lines = [l.rstrip() for l in log if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b: ", l)]
            run.sdlf_error = lines[-1] if lines else "exit %s" % code
            run.sdlf_state = "FAILED"
        except Exception as error:  # noqa: BLE001 - a harness failure ends the run as Glue would: FAILED
            with lock:
                if run.sdlf_state == "STOPPING":
                    run.sdlf_state = "STOPPED"
                    return
            run.sdlf_error = "the test harness could not run the job: %s" % error
            run.sdlf_state = "FAILED"

    lock = threading.Lock()
    running = set()

    def kill_all():
        # Job runs have process groups of their own (see kill): they end with the server (moto_server exits through
        # sys.exit on SIGTERM and SIGINT), as the server's own child processes do.
        for process in list(running):
            kill(process)

    atexit.register(kill_all)

    def kill(process):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def batch_stop_job_run(self, job_name, job_run_ids):
        job = self.get_job(job_name)
        stopped, errors = [], []
        for run_id in job_run_ids:
            run = next((r for r in job.job_runs if r.job_run_id == run_id), None)
            with lock:
                state = getattr(run, "sdlf_state", None) if run is not None else None
                if state in ("STARTING", "RUNNING"):
                    run.sdlf_state = "STOPPING"
                    process = getattr(run, "sdlf_process", None)
                    if process is not None:
                        kill(process)
                    stopped.append({"JobName": job_name, "JobRunId": run_id})
                    continue
            reason = "JobRun %s is %s and cannot be stopped" % (run_id, state) if run is not None else "JobRun %s not found" % run_id
            errors.append(
                {
                    "JobName": job_name,
                    "JobRunId": run_id,
                    "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": reason},
                }
            )
        return stopped, errors

    def batch_stop_job_run_response(self):
        stopped, errors = self.glue_backend.batch_stop_job_run(self._get_param("JobName"), self._get_param("JobRunIds"))
        return json.dumps({"SuccessfulSubmissions": stopped, "Errors": errors})

    def start_job_run(self, **kwargs):
        run_id = original_start(self, **kwargs)
        run = next(r for r in self.job_runs if r.job_run_id == run_id)
        run.sdlf_state = "RUNNING"
        threading.Thread(target=execute, args=(self, run, run_id, kwargs), daemon=True).start()
        return run_id

    def status(self):
        state = getattr(self, "sdlf_state", None)
        return state if state is not None else original_status.fget(self)

    original_as_dict = FakeJobRun.as_dict

    def as_dict(self):
        described = original_as_dict(self)
        if getattr(self, "sdlf_error", None):
            described["ErrorMessage"] = self.sdlf_error
        return described

    FakeJob.start_job_run = start_job_run
    FakeJobRun.status = property(status, original_status.fset)
    FakeJobRun.as_dict = as_dict
    GlueBackend.batch_stop_job_run = batch_stop_job_run
    GlueResponse.batch_stop_job_run = batch_stop_job_run_response


def sync_tasks_without_task_token() -> None:
    """Step Functions ".sync" tasks of services without a task-token pattern (glue:startJobRun.sync): moto's
    interpreter calls interrupt_all() on the task's callback endpoint, which such services do not have (None), so
    every such task fails with States.Runtime "'NoneType' object has no attribute 'interrupt_all'" once the job ends.
    Step Functions returns the job's outcome. The patched method skips the call when there is no endpoint."""
    import inspect
    import re
    import textwrap

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback as module

    cls = module.StateTaskServiceCallback
    source = textwrap.dedent(inspect.getsource(cls._eval_integration_pattern))
    source, count = re.subn(
        r"^( *)callback_endpoint\.interrupt_all\(\)$",
        r"\1if callback_endpoint is not None:\n\1    callback_endpoint.interrupt_all()",
        source,
        flags=re.MULTILINE,
    )
    if count != 1:
        raise RuntimeError("moto's StateTaskServiceCallback._eval_integration_pattern changed: review this patch")
    namespace = {}
    exec(compile(source, module.__file__, "exec"), module.__dict__, namespace)
    cls._eval_integration_pattern = namespace["_eval_integration_pattern"]


def glue_sync_fails_stopped_runs() -> None:
    """Step Functions glue:startJobRun.sync fails the task (States.TaskFailed, the JobRun as Cause) when the job run
    ends FAILED, TIMEOUT, ERROR or STOPPED; moto's interpreter returns a STOPPED run as the task's result, as if it
    had succeeded. The patched set of abnormal states holds STOPPED too."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_glue as module

    abnormal = module._JOB_RUN_STATE_ABNORMAL_TERMINAL_VALUE
    if abnormal != {"FAILED", "TIMEOUT", "ERROR"}:
        raise RuntimeError("moto's Glue task states changed: review this patch")
    abnormal.add("STOPPED")


def s3_events_reach_lambda() -> None:
    """S3 → EventBridge → Lambda, two gaps of moto:
    - a bucket that CloudFormation creates with NotificationConfiguration.EventBridgeConfiguration sends no events
      (moto applies only encryption and tags from the template); S3 sends every object event to EventBridge then;
    - EventBridge rules deliver to logs, SQS and event buses only: a Lambda target raises NotImplementedError, which
      moto swallows, so the function never runs. EventBridge invokes the function asynchronously with the event.
      Lambda targets are invoked in a thread, as the asynchronous invocation they are; and a scheduled rule, which
      moto matches with every event, matches none."""
    import threading

    from moto.awslambda.models import lambda_backends
    from moto.events.models import Rule
    from moto.s3.models import FakeBucket, s3_backends
    from moto.utilities.utils import get_partition

    original_create = FakeBucket.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        bucket = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        notifications = cloudformation_json.get("Properties", {}).get("NotificationConfiguration", {})
        if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled") in (True, "true"):
            backend = s3_backends[account_id][get_partition(region_name)]
            backend.put_bucket_notification_configuration(resource_name, {"EventBridgeConfiguration": {}})
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create)

    original_send = Rule.send_to_targets

    def send_to_targets(self, original_event, transform_input=True):
        # A scheduled rule has no event pattern, which moto matches with every event; EventBridge never does.
        if self.scheduled_expression or not self.event_pattern.matches_event(original_event):
            return
        functions = [t for t in self.targets if t["Arn"].split(":")[2] == "lambda"]
        others = [t for t in self.targets if t not in functions]
        if others:
            targets, self.targets = self.targets, others
            try:
                original_send(self, original_event, transform_input)
            finally:
                self.targets = targets
        for target in functions:
            _, _, _, region, account, _, name = target["Arn"].split(":")[:7]
            function = lambda_backends[account][region].get_function(name)
            body = json.dumps(original_event, default=str)
            threading.Thread(target=function.invoke, args=(body, {"x-amz-invocation-type": "Event"}, {}), daemon=True).start()

    Rule.send_to_targets = send_to_targets


def queue_urls_of_this_server() -> None:
    """AWS::SQS::Queue: moto gives a queue that CloudFormation creates the URL https://sqs.<region>.amazonaws.com/…,
    which the SDK (useQueueUrlAsEndpoint) then calls instead of moto_server: every function sending to a queue
    whose URL came from a template would leave this machine. The URL is the one the SQS API of this server
    returns for the queue, as CloudFormation returns the queue's real URL."""
    from moto.sqs.models import Queue

    def physical_resource_id(self):
        return "http://localhost:%s/%s/%s" % (os.environ["MOTO_PORT"], self.account_id, self.name)

    Queue.physical_resource_id = property(physical_resource_id)


def sqs_event_sources_poll() -> None:
    """SQS → Lambda event source mappings: moto invokes the function once per SendMessage with what one receive
    returns, one invocation per message. On a FIFO queue whose message group still has a message in flight that
    receive returns nothing, and nothing polls again, so the later messages wait forever. Lambda polls until the
    queue is empty, invokes the function with a batch of up to BatchSize records, and deletes the batch's messages
    except, when the mapping sets ReportBatchItemFailures, the batchItemFailures the function reports (those
    reappear after the visibility timeout; see batch_failures); with MaximumBatchingWindowInSeconds, it gathers
    messages for up to that long before invoking. Here a poller does that after each send, one at a time per
    queue."""
    import threading

    from moto.awslambda.models import lambda_backends
    from moto.sqs.models import Queue, sqs_backends

    adding = threading.Lock()
    pollers = {}
    original_add = Queue.add_message

    def add_message(self, message):
        with adding:
            mappings, self.lambda_event_source_mappings = self.lambda_event_source_mappings, {}
            try:
                original_add(self, message)
            finally:
                self.lambda_event_source_mappings = mappings
        if any(esm.enabled for esm in mappings.values()):
            threading.Thread(target=drain, args=(self,), daemon=True).start()

    def record(queue, message):
        attributes = {"ApproximateReceiveCount": str(message.approximate_receive_count), "SentTimestamp": str(message.sent_timestamp)}
        if queue.fifo_queue:
            attributes.update({"MessageGroupId": message.group_id, "MessageDeduplicationId": message.deduplication_id})
        return {
            "messageId": message.id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": {},
            "md5OfBody": message.body_md5,
            "eventSource": "aws:sqs",
            "eventSourceARN": queue.queue_arn,
            "awsRegion": queue.region,
        }

    def batch_failures(esm, messages, payload, errored):
        """The ids of the messages Lambda keeps on the queue after an invocation: all of them when the function
        errored; with ReportBatchItemFailures, those of its batchItemFailures, and again all of them when the response
        is not a JSON object or names an item that is not in the batch (Lambda fails the whole batch then); without
        it, none: the response is not read."""
        every = {m.id for m in messages}
        if errored:
            return every
        if "ReportBatchItemFailures" not in (esm.function_response_types or []):
            return set()
        try:
            response = json.loads(payload) if payload not in (None, "", b"") else None
        except ValueError:
            return every
        if response is None:
            return set()
        if not isinstance(response, dict):
            return every
        failures = response.get("batchItemFailures") or []
        if not isinstance(failures, list):
            return every
        ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(not i or i not in every for i in ids):
            return every
        return set(ids)

    def poll_once(queue):
        backend = sqs_backends[queue.account_id][queue.region]
        received = False
        for esm in list(queue.lambda_event_source_mappings.values()):
            if not esm.enabled:
                continue
            messages = backend.receive_message(queue.name, esm.batch_size, 0, queue.visibility_timeout)
            if not messages:
                continue
            # A batching window: Lambda keeps receiving (the messages stay in flight) until the batch is full or
            # the window has passed since the first receive, then invokes once.
            window = int(esm.max_batch_window or 0)
            until = time.monotonic() + window
            while window > 0 and len(messages) < esm.batch_size and time.monotonic() < until:
                time.sleep(min(1.0, max(0.0, until - time.monotonic())))
                messages += backend.receive_message(
                    queue.name, esm.batch_size - len(messages), 0, queue.visibility_timeout
                )
            received = True
            _, _, _, region, account, _, name = esm.function_arn.split(":")[:7]
            function = lambda_backends[account][region].get_function(name)
            headers = {}
            payload = function.invoke(json.dumps({"Records": [record(queue, m) for m in messages]}), {}, headers)
            failed = batch_failures(esm, messages, payload, "x-amz-function-error" in headers)
            for message in messages:
                if message.id not in failed:
                    backend.delete_message(queue.name, message.receipt_handle)
        return received

    def drain(queue):
        state = pollers.setdefault(queue.queue_arn, {"lock": threading.Lock(), "again": False})
        state["again"] = True
        if not state["lock"].acquire(blocking=False):
            return  # the running poller goes round again
        try:
            while state["again"]:
                state["again"] = False
                while poll_once(queue):
                    pass
        finally:
            state["lock"].release()

    Queue.add_message = add_message


def get_att_of_skipped_resources() -> None:
    """Fn::GetAtt of a resource whose type moto does not model (AWS::CodeBuild::Project, AWS::CodePipeline::Pipeline,
    ...): moto skips creating such a resource, and a Ref to it resolves to nothing, but a GetAtt of it fails the whole
    stack with "Template error: instance of Fn::GetAtt references undefined resource", although the resource is in
    the template. CloudFormation resolves the attribute of every resource the template declares. The stand-in is an
    ARN-shaped string for *Arn attributes (arn:aws:<service>:<region>:<account>:<type>/<logical id>) and
    "<logical id>.<attribute>" otherwise, which is enough for the policies and settings that embed it."""
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json, resources_map):
        if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
            get_att = resource_json["Fn::GetAtt"]
            name, attribute = get_att.split(".", 1) if isinstance(get_att, str) else (get_att[0], get_att[1])
            declared = getattr(resources_map, "_resource_json_map", {}).get(name)
            if isinstance(declared, dict) and not parsing.resource_class_from_type(declared.get("Type", "")):
                _, service, kind = (declared["Type"].split("::") + ["", ""])[:3]
                if attribute.endswith("Arn"):
                    account, region = resources_map["AWS::AccountId"], resources_map["AWS::Region"]
                    return f"arn:aws:{service.lower()}:{region}:{account}:{kind.lower()}/{name}"
                return f"{name}.{attribute}"
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def codecommit_repositories() -> None:
    """CodeCommit, two defects:
    - CreateRepository and GetRepository return creationDate/lastModifiedDate as ISO strings, but the awsJson1_1
      protocol carries timestamps as epoch seconds, so the AWS SDK v3 fails to parse every reply ("Expected real
      number, got implicit NaN");
    - CreateRepository drops the tags, and ListTagsForResource is not implemented.
    CodeCommit returns epoch-second timestamps, keeps the repository's tags and lists them by repository ARN."""
    from datetime import datetime

    from moto.codecommit.responses import CodeCommitResponse

    tags_by_arn: dict = {}

    def epoch_seconds(reply: str) -> str:
        body = json.loads(reply)
        metadata = body.get("repositoryMetadata") or {}
        for key in ("creationDate", "lastModifiedDate"):
            if isinstance(metadata.get(key), str):
                metadata[key] = datetime.fromisoformat(metadata[key].replace("Z", "+00:00")).timestamp()
        return json.dumps(body)

    original_create = CodeCommitResponse.create_repository
    original_get = CodeCommitResponse.get_repository

    def create_repository(self):
        reply = json.loads(original_create(self))
        tags_by_arn[reply["repositoryMetadata"]["Arn"]] = dict(self._get_param("tags") or {})
        return epoch_seconds(json.dumps(reply))

    def get_repository(self):
        return epoch_seconds(original_get(self))

    def list_tags_for_resource(self):
        return json.dumps({"tags": tags_by_arn.get(self._get_param("resourceArn"), {})})

    CodeCommitResponse.create_repository = create_repository
    CodeCommitResponse.get_repository = get_repository
    CodeCommitResponse.list_tags_for_resource = list_tags_for_resource


def failed_creation_rolls_back() -> None:
    """ExecuteChangeSet of a new stack whose resources fail to create: moto answers HTTP 500 and leaves the stack
    REVIEW_IN_PROGRESS with the resources created so far, so a deploy cannot tell what failed and a re-run finds a
    half-made stack. CloudFormation records the failure (resource CREATE_FAILED with the reason, stack
    ROLLBACK_IN_PROGRESS), deletes what it created and leaves the stack in ROLLBACK_COMPLETE, from which it can
    only be deleted."""
    from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Event

    original_apply = ChangeSet.apply

    def apply(self):
        try:
            original_apply(self)
        except Exception as error:  # noqa: BLE001 - any failure of a resource is a failed creation
            if self.change_set_type != "CREATE":
                raise
            stack = self.stack
            resource_map = stack.resource_map
            failed = next(
                (name for name in resource_map._resource_json_map if name not in resource_map._parsed_resources),
                stack.name,
            )
            stack._sdlf_failure = (failed, resource_map._resource_json_map.get(failed, {}).get("Type", ""), str(error))
            try:
                resource_map.delete()
            except Exception:  # noqa: BLE001 - the rollback deletes what it can, like CloudFormation's
                pass

    ChangeSet.apply = apply

    original_execute = CloudFormationBackend.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        result = original_execute(self, change_set_name, stack_name)
        for stack in self.stacks.values():
            failure = getattr(stack, "_sdlf_failure", None)
            if failure is None:
                continue
            del stack._sdlf_failure
            logical_id, resource_type, reason = failure
            stack.events = [e for e in stack.events if e.resource_status != "CREATE_COMPLETE" or e.logical_resource_id != stack.name]
            stack.events.append(
                Event(stack.stack_id, stack.name, logical_id, logical_id, resource_type, "CREATE_FAILED", reason, None)
            )
            stack._add_stack_event(
                "ROLLBACK_IN_PROGRESS",
                resource_status_reason=f"The following resource(s) failed to create: [{logical_id}]. Rollback requested by user.",
            )
            stack._add_stack_event("ROLLBACK_COMPLETE")
            stack.status = "ROLLBACK_COMPLETE"
        return result

    CloudFormationBackend.execute_change_set = execute_change_set


def list_parameters_as_text() -> None:
    """CommaDelimitedList and List<...> stack parameters: moto keeps the value as a Python list and DescribeStacks
    returns its repr ("['111111111111']") as ParameterValue, and a change set that keeps the previous value
    (UsePreviousValue, as the CDK bootstrap does on a re-run) passes that list where a string is parsed, which fails.
    CloudFormation returns and reuses the comma-separated text ("111111111111,222222222222")."""
    from moto.cloudformation.models import Stack
    from moto.cloudformation.parsing import ResourceMap

    def as_text(value):
        return ",".join(str(v) for v in value) if isinstance(value, list) else value

    def parameter_list(self):
        hidden = self.resource_map.no_echo_parameter_keys
        return [
            {"ParameterKey": k, "ParameterValue": "****" if k in hidden else as_text(v)}
            for k, v in self.resource_map.resolved_parameters.items()
        ]

    Stack.parameter_list = property(parameter_list)

    original_load = ResourceMap.load_parameters

    def load_parameters(self):
        self.input_parameters = {k: as_text(v) for k, v in self.input_parameters.items()}
        return original_load(self)

    ResourceMap.load_parameters = load_parameters


def glue_run_log_groups() -> None:
    """GetJobRun(s): moto names every run's log group "test/log"; Glue reports /aws-glue/jobs, the group a run
    without a security configuration logs to (its output and error streams in <group>/output and <group>/error).
    A run with a security configuration keeps moto's name: what Glue names its group is not modelled here."""
    from moto.glue.models import FakeJobRun

    original_as_dict = FakeJobRun.as_dict

    def as_dict(self):
        described = original_as_dict(self)
        if not getattr(self, "security_configuration", None):
            described["LogGroupName"] = "/aws-glue/jobs"
        return described

    FakeJobRun.as_dict = as_dict

PATCHES = [
    kms_key_from_template,
    cfn_tags_to_ssm_tags,
    change_sets_per_stack,
    get_att_of_skipped_resources,
    codecommit_repositories,
    failed_creation_rolls_back,
    list_parameters_as_text,
    step_functions_execute,
    lambda_runs_locally,
    glue_runs_jobs_locally,
    glue_run_log_groups,
    sync_tasks_without_task_token,
    glue_sync_fails_stopped_runs,
    s3_events_reach_lambda,
    queue_urls_of_this_server,
    sqs_event_sources_poll,
]

if __name__ == "__main__":
    if moto.__version__ != PINNED:
        sys.exit(f"test/moto/server.py patches moto {PINNED}; found moto {moto.__version__}: review the patches.")
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 test/moto/server.py PORT")
    # The Step Functions interpreter reaches the other services at localhost:MOTO_PORT.
    os.environ["MOTO_PORT"] = sys.argv[1]
    for patch in PATCHES:
        patch()
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
