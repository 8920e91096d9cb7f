variable "name" {
  description = "Name prefix of the log groups, topic and alarms (e.g. `anthill-dev`)."
  type        = string
}

variable "log_groups" {
  description = "Log groups the cluster's log shipper writes to, by key (e.g. `operator`, `ingest`); each is `/anthill/<name>/<key>`."
  type        = list(string)
  default     = ["operator", "ingest", "pipelines"]
}

variable "retention_days" {
  description = "Days the log groups keep their events."
  type        = number
  default     = 365
}


variable "failure_alarms" {
  description = "Alarms raised when failures show up in a log group: a metric filter counts matching events in `log_group` and the alarm fires when `threshold` is reached within `period_seconds`."
  type = map(object({
    log_group      = string
    pattern        = string
    description    = string
    threshold      = optional(number, 1)
    period_seconds = optional(number, 3600)
  }))
  default = {
    ingest-failed = {
      log_group   = "ingest"
      pattern     = "{ $.result = \"Failed\" }"
      description = "An ingest run ended Failed (its JSON summary line)."
    }
    pipeline-failed = {
      log_group   = "pipelines"
      pattern     = "{ $.resultState = \"FAILED\" }"
      description = "A medallion pipeline run ended FAILED."
    }
    operator-errors = {
      log_group      = "operator"
      pattern        = "{ $.levelname = \"ERROR\" }"
      description    = "The operator logged errors (API refusals, outages)."
      threshold      = 5
      period_seconds = 900
    }
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
