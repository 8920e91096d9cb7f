"""The local control plane behaves like a real cluster where the platform depends on it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from anthill_devkit.controlplane import ControlPlane, wait_for

pytestmark = pytest.mark.integration


def _gone(read: Callable[[], object]) -> bool:
    """True once ``read`` answers 404."""
    try:
        read()
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


def _cronjob(name: str, schedule: str) -> client.V1CronJob:
    container = client.V1Container(name="main", image="busybox:1.36", command=["true"])
    pod = client.V1PodTemplateSpec(spec=client.V1PodSpec(containers=[container], restart_policy="Never"))
    return client.V1CronJob(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1CronJobSpec(
            schedule=schedule,
            concurrency_policy="Forbid",
            job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(template=pod)),
        ),
    )


def test_server_reports_pinned_version(api_client: client.ApiClient) -> None:
    """The -X ldflags reached the binary: discovery reports the pinned release, not v0.0.0."""
    info = client.VersionApi(api_client).get_code()
    assert (info.major, info.minor, info.git_version) == ("1", "34", "v1.34.4")


def test_namespace_gets_default_serviceaccount_and_root_ca(
    api_client: client.ApiClient, namespace: str
) -> None:
    """serviceaccount and root-ca-publisher controllers run: pods in new namespaces can be admitted."""
    core = client.CoreV1Api(api_client)
    wait_for(
        lambda: not _gone(lambda: core.read_namespaced_service_account("default", namespace)),
        30,
        "the default ServiceAccount",
    )
    wait_for(
        lambda: not _gone(lambda: core.read_namespaced_config_map("kube-root-ca.crt", namespace)),
        30,
        "the kube-root-ca.crt ConfigMap",
    )


def test_create_cronjob_gets_server_defaults(api_client: client.ApiClient, namespace: str) -> None:
    batch = client.BatchV1Api(api_client)
    batch.create_namespaced_cron_job(namespace, _cronjob("nightly", "30 22 * * 1-5"))
    stored = batch.read_namespaced_cron_job("nightly", namespace)
    assert stored.spec.schedule == "30 22 * * 1-5"
    assert stored.spec.concurrency_policy == "Forbid"
    assert stored.spec.suspend is False
    assert stored.spec.successful_jobs_history_limit == 3


def test_invalid_cronjob_schedule_is_rejected_at_admission(
    api_client: client.ApiClient, namespace: str
) -> None:
    """The API server validates like a real one: a bad cron is a 422 naming the field."""
    batch = client.BatchV1Api(api_client)
    with pytest.raises(ApiException) as excinfo:
        batch.create_namespaced_cron_job(namespace, _cronjob("broken", "every day"))
    assert excinfo.value.status == 422
    assert "spec.schedule" in str(excinfo.value.body)


def test_job_controller_creates_pods(api_client: client.ApiClient, namespace: str) -> None:
    """kube-controller-manager's job controller turns a Job into a Pod (Pending: there is no kubelet)."""
    batch, core = client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    wait_for(
        lambda: not _gone(lambda: core.read_namespaced_service_account("default", namespace)),
        30,
        "the default ServiceAccount",
    )
    template = _cronjob("unused", "* * * * *").spec.job_template
    batch.create_namespaced_job(
        namespace, client.V1Job(metadata=client.V1ObjectMeta(name="once"), spec=template.spec)
    )
    wait_for(
        lambda: bool(core.list_namespaced_pod(namespace, label_selector="job-name=once").items),
        30,
        "the Job's Pod",
    )


@pytest.mark.slow
def test_cronjob_controller_schedules_jobs(api_client: client.ApiClient, namespace: str) -> None:
    """The cronjob controller creates a Job owned by the CronJob on the next minute boundary."""
    batch = client.BatchV1Api(api_client)
    created = batch.create_namespaced_cron_job(namespace, _cronjob("every-minute", "* * * * *"))

    def owned_job_exists() -> bool:
        jobs = batch.list_namespaced_job(namespace).items
        return any(
            ref.uid == created.metadata.uid for job in jobs for ref in job.metadata.owner_references or []
        )

    wait_for(owned_job_exists, 90, "a Job created by the CronJob", interval=1.0)
    wait_for(
        lambda: (
            batch.read_namespaced_cron_job("every-minute", namespace).status.last_schedule_time is not None
        ),
        10,
        "status.lastScheduleTime",
    )


def test_owned_configmap_is_garbage_collected(api_client: client.ApiClient, namespace: str) -> None:
    """The garbage collector removes a dependent once its owner is deleted (what CronJob ownership relies on)."""
    core, batch = client.CoreV1Api(api_client), client.BatchV1Api(api_client)
    owner = batch.create_namespaced_cron_job(namespace, _cronjob("owner", "0 0 * * *"))
    reference = client.V1OwnerReference(
        api_version="batch/v1",
        kind="CronJob",
        name="owner",
        uid=str(owner.metadata.uid),
        controller=True,
        block_owner_deletion=True,
    )
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="owned", owner_references=[reference]), data={"spec": "{}"}
        ),
    )
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="bystander"), data={})
    )

    batch.delete_namespaced_cron_job("owner", namespace, propagation_policy="Background")

    wait_for(
        lambda: _gone(lambda: core.read_namespaced_config_map("owned", namespace)),
        60,
        "the owned ConfigMap to be garbage-collected",
    )
    assert core.read_namespaced_config_map("bystander", namespace).metadata.name == "bystander"


def test_serviceaccount_without_role_is_forbidden(
    control_plane: ControlPlane, api_client: client.ApiClient, namespace: str
) -> None:
    """RBAC is enforced: a fresh SA token gets 403, and the same token succeeds once a Role grants the verb."""
    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="reader"))
    )
    token = core.create_namespaced_service_account_token(
        "reader",
        namespace,
        client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
        ),
    ).status.token

    configuration = client.Configuration()
    configuration.host = control_plane.server
    configuration.ssl_ca_cert = str(control_plane.ca_file)
    configuration.api_key = {"authorization": f"Bearer {token}"}
    as_reader = client.CoreV1Api(client.ApiClient(configuration))

    with pytest.raises(ApiException) as excinfo:
        as_reader.list_namespaced_pod(namespace)
    assert excinfo.value.status == 403
    assert f"system:serviceaccount:{namespace}:reader" in str(excinfo.value.body)

    rbac.create_namespaced_role(
        namespace,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="pod-reader"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["list"])],
        ),
    )
    rbac.create_namespaced_role_binding(
        namespace,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="pod-reader"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="pod-reader"),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name="reader", namespace=namespace)],
        ),
    )
    wait_for(lambda: _can_list_pods(as_reader, namespace), 10, "the RoleBinding to take effect")
    with pytest.raises(ApiException) as excinfo:
        as_reader.list_namespaced_secret(namespace)
    assert excinfo.value.status == 403


def _can_list_pods(api: client.CoreV1Api, namespace: str) -> bool:
    try:
        api.list_namespaced_pod(namespace)
    except ApiException as exc:
        if exc.status == 403:
            return False
        raise
    return True


def test_namespace_deletion_completes(api_client: client.ApiClient) -> None:
    """The namespace controller empties and removes a terminating namespace."""
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="short-lived")))
    core.create_namespaced_config_map(
        "short-lived", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"))
    )
    core.delete_namespace("short-lived")
    wait_for(lambda: _gone(lambda: core.read_namespace("short-lived")), 60, "the namespace to be removed")
