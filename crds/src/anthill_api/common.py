"""Building blocks shared by the anthill.io/v1alpha1 kinds.

Every model parses the raw Kubernetes body at the boundary: camelCase aliases, unknown fields rejected.
Field descriptions become the CRD's OpenAPI descriptions (what `kubectl explain` prints), and cross-field
rules written as CEL in ``x-kubernetes-validations`` are enforced by the API server at admission.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

GROUP = "anthill.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
KEY_NAME = r"^[-._a-zA-Z0-9]+$"
# A Unity Catalog volume's path, /Volumes/<catalog>/<schema>/<volume>: where the anthill-spark wheel is deployed.
# Names are plain identifiers, so a path built from it can neither climb out nor need quoting.
VOLUME_PATH = r"^/Volumes/[A-Za-z0-9_][-A-Za-z0-9_]*/[A-Za-z0-9_][-A-Za-z0-9_]*/[A-Za-z0-9_][-A-Za-z0-9_]*$"


def _cron_field(value: str) -> str:
    """A cron field's comma-separated items: ``*``, ``?``, a value or a range, each with an optional step."""
    item = rf"(\*|\?|({value})(-({value}))?)(/[1-9][0-9]{{0,2}})?"
    return rf"{item}(,{item})*"


# Five cron fields (or a predefined @macro) with every value in its field's range, as the CronJob API parses
# them: a schedule it would refuse fails at admission instead of at every reconcile. Day of week is 0-6
# (Sunday is 0, as in CronJob); months and days also by name. A TZ= prefix is not allowed: use timeZone.
CRON_MINUTE = _cron_field("0?[0-9]|[1-5][0-9]")
CRON_HOUR = _cron_field("0?[0-9]|1[0-9]|2[0-3]")
CRON_DAY_OF_MONTH = _cron_field("0?[1-9]|[12][0-9]|3[01]")
CRON_MONTH = _cron_field("0?[1-9]|1[0-2]|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)")
CRON_DAY_OF_WEEK = _cron_field("[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat)")
CRON = (
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
    rf"|({CRON_MINUTE})\s+({CRON_HOUR})\s+({CRON_DAY_OF_MONTH})\s+({CRON_MONTH})\s+({CRON_DAY_OF_WEEK}))$"
)
IANA_TIME_ZONE = r"^(UTC|Etc/[A-Za-z0-9+-]+|[A-Z][A-Za-z_-]+(/[A-Za-z0-9_+-]+){1,2})$"
# A non-negative Kubernetes quantity (100m, 0.5, 256Mi, 1e3), as resource.Quantity parses it.
QUANTITY = r"^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"


def cel(
    rule: str, message: str, field_path: str | None = None, reason: str = "FieldValueInvalid"
) -> dict[str, str]:
    """One ``x-kubernetes-validations`` entry; ``field_path`` makes the API server name the field."""
    entry = {"rule": rule, "message": message, "reason": reason}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


class Model(BaseModel):
    """Base of every spec/status model: camelCase on the wire, unknown fields are errors."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
    cel_rules: ClassVar[list[dict[str, str]]] = []

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        if cls.cel_rules:
            schema["x-kubernetes-validations"] = cls.cel_rules
        return schema

    def to_k8s(self) -> dict[str, Any]:
        """The camelCase dict, without unset optional fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class SecretKeyRef(Model):
    """A key in a Secret in the same namespace. Only the reference is stored; the value never leaves the Secret."""

    name: str = Field(
        description="Name of the Secret, in the same namespace.", max_length=253, pattern=DNS_SUBDOMAIN
    )
    key: str = Field(description="Key within the Secret.", max_length=253, pattern=KEY_NAME)


class LocalObjectReference(Model):
    """A named object of a known kind in the same namespace."""

    name: str = Field(
        description="Name of the object, in the same namespace.", max_length=253, pattern=DNS_SUBDOMAIN
    )


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(Model):
    """The latest observation of one aspect of the resource (metav1.Condition)."""

    type: str = Field(description="Ready: the resource does its job. Synced: the last reconcile succeeded.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(description="CamelCase reason for the last transition, e.g. Available, InvalidSpec.")
    message: str = Field(default="", description="Human-readable details.")
    last_transition_time: datetime.datetime = Field(description="When status last changed.")
    observed_generation: int | None = Field(default=None, description="metadata.generation this reflects.")


def printer_columns_common() -> list[dict[str, Any]]:
    """READY, SYNCED as every kind shows them (Crossplane convention)."""
    return [
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Synced", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Synced")].status'},
    ]


def conditions_field(description: str) -> Any:
    """status.conditions: a list keyed by type, as metav1.Condition lists are."""
    return Field(
        default_factory=list,
        description=description,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


# Every value of a requests/limits map must be a Kubernetes quantity, or the pod can never be created.
Quantity = Annotated[str, Field(max_length=64, pattern=QUANTITY)]
QUANTITIES: Any = {
    "x-kubernetes-validations": [
        cel("self.all(k, isQuantity(self[k]))", "values must be Kubernetes quantities, e.g. 500m or 2Gi")
    ]
}


class Resources(Model):
    """Requests and limits of a workload's container (Kubernetes quantities)."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            "!has(self.requests) || !has(self.limits) || self.requests.all(k, !(k in self.limits)"
            " || !isQuantity(self.requests[k]) || !isQuantity(self.limits[k])"
            " || quantity(self.requests[k]).compareTo(quantity(self.limits[k])) <= 0)",
            "a request must not exceed the limit of the same resource",
            ".requests",
        )
    ]
    requests: dict[str, Quantity] | None = Field(
        default=None,
        max_length=16,
        description="e.g. {cpu: '1', memory: 2Gi}.",
        json_schema_extra=QUANTITIES,
    )
    limits: dict[str, Quantity] | None = Field(
        default=None,
        max_length=16,
        description="e.g. {memory: 4Gi}.",
        json_schema_extra=QUANTITIES,
    )
