"""``{% conversation thread %}``: the conversation of an order or a need, with
its post form, for whoever takes part in it — one line in the order page and
the need page, which need no context of their own for it."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from matching.models import Order
from matching.need_forms import MessageForm
from matching.need_selectors import thread_conversation

register = template.Library()


@register.inclusion_tag("matching/conversation.html", takes_context=True)
def conversation(context: template.Context, thread: Any) -> dict[str, Any]:
    request = context["request"]
    is_order = isinstance(thread, Order)
    return {
        "conversation": thread_conversation(user=request.user, thread=thread),
        "form": MessageForm(thread=thread, user=request.user),
        "post_url": reverse(
            "order_message_post" if is_order else "need_message_post",
            args=[thread.pk],
        ),
        "is_order": is_order,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "user": request.user,
    }
