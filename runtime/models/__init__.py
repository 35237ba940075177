"""Database models, one file per aggregate: accounts, ledgers, reports, tasks, sharing, exchange, jobs.

Every model is importable from `runtime.models`; importing the package registers them all on
`Base.metadata`, which the migrations compare against.
"""

from runtime.models.accounts import Department, LoginSession, OrgUnit, User
from runtime.models.base import NAMING, Base, BigId, CodeText, JSONDoc, utcnow
from runtime.models.exchange import ApiClient, ApiRequest, ApiToken, FeedEvent
from runtime.models.jobs import AuditEntry, Job
from runtime.models.ledgers import Record, RecordVersion, WarningCount
from runtime.models.reports import AdmissionRequest, Report, ReportVersion
from runtime.models.sharing import Grant, ProposedChange
from runtime.models.tasks import Task, TaskRow, WritebackConflict

__all__ = [
    "ApiClient",
    "ApiRequest",
    "ApiToken",
    "FeedEvent",
    "AdmissionRequest",
    "AuditEntry",
    "Base",
    "BigId",
    "CodeText",
    "Department",
    "Grant",
    "JSONDoc",
    "Job",
    "LoginSession",
    "NAMING",
    "OrgUnit",
    "ProposedChange",
    "Record",
    "RecordVersion",
    "Report",
    "ReportVersion",
    "Task",
    "TaskRow",
    "User",
    "WarningCount",
    "WritebackConflict",
    "utcnow",
]
