"""Polls attached to a poll message, their options and ballots."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class Poll(Entity):
    message = fields.OneToOneField("models.Message", related_name="poll", on_delete=fields.CASCADE)
    chat = fields.ForeignKeyField("models.Chat", related_name="polls", on_delete=fields.CASCADE)
    creator = fields.ForeignKeyField(
        "models.User", related_name="polls", null=True, on_delete=fields.SET_NULL
    )
    question = fields.CharField(max_length=300)
    multiple_choice = fields.BooleanField(default=False)
    anonymous = fields.BooleanField(default=False)
    closes_at = fields.DatetimeField(null=True, db_index=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "polls"


class PollOption(Entity):
    poll = fields.ForeignKeyField("models.Poll", related_name="options", on_delete=fields.CASCADE)
    position = fields.SmallIntField()
    text = fields.CharField(max_length=100)

    class Meta:
        table = "poll_options"
        unique_together = (("poll", "position"),)


class PollVote(Entity):
    poll = fields.ForeignKeyField("models.Poll", related_name="votes", on_delete=fields.CASCADE)
    option = fields.ForeignKeyField(
        "models.PollOption", related_name="votes", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "models.User", related_name="poll_votes", on_delete=fields.CASCADE
    )

    class Meta:
        table = "poll_votes"
        unique_together = (("poll", "option", "user"),)
        indexes = (("poll_id", "user_id"),)
