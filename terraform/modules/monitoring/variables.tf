variable "name" {
  description = "Name prefix of the key alias, topic and budget (e.g. `anthill-dev`)."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm)."
  type        = list(string)
  default     = []
}

variable "budget" {
  description = "A monthly AWS cost budget for the environment (null: none): `amount` in USD; notifications at each of `thresholds_percent` of the actual and the forecast spend go to the alarm topic and `emails`; `cost_filter_tags` limits it to resources with those tags (cost allocation tags, activated in the billing console)."
  type = object({
    amount             = number
    emails             = optional(list(string), [])
    thresholds_percent = optional(list(number), [80, 100])
    cost_filter_tags   = optional(map(string), {})
  })
  default = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
