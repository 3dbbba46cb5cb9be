"""How order figures read on pages: percentages and answer times."""

from django import template

from matching.statistics import format_hours, format_percent

register = template.Library()

register.filter("percent", format_percent)
register.filter("answer_time", format_hours)
