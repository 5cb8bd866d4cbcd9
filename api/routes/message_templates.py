"""/v1/message-templates: the organisation's own wording of its messages, per kind, language and
channel, each SMS checked for one GSM-7 segment (or explicitly flagged as multi-part)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import JSONBody, PathParameter

from slotoptim.api.errors import invalid
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.message_templates import TemplateIn, TemplateOut
from slotoptim.listener import message_catalogue as catalogue

Kind = Annotated[str, PathParameter(max_length=32, description="offer, booked, reminder or consent_request")]
Language = Annotated[str, PathParameter(max_length=2, description="en or es")]
Channel = Annotated[str, PathParameter(max_length=5, description="sms or email")]


class MessageTemplateController(Controller):
    path = "/v1/message-templates"
    tags = ("practice",)

    @get(
        "/",
        operation_id="listMessageTemplates",
        summary="Every message text in use, per kind, language and channel, with its SMS segment count",
        sync_to_thread=True,
        responses=errors(not_found=False, unprocessable=False),
    )
    def list_templates(self, db: Db, ctx: Ctx) -> list[TemplateOut]:
        with db.transaction(ctx) as conn:
            names = catalogue.names(conn, ctx.org_id)
            custom = {
                (str(r["kind"]), str(r["language"]), str(r["channel"])): (str(r["body"]), bool(r["multipart"]))
                for r in conn.execute(
                    "select kind, language, channel, body, multipart from slotoptim_private.message_template"
                ).fetchall()
            }
        result = []
        for kind in catalogue.KINDS:
            for language in catalogue.LANGUAGES:
                for channel in ("sms", "email"):
                    own = custom.get((kind, language, channel))
                    body = own[0] if own else catalogue.DEFAULTS[(kind, language)]
                    check = catalogue.check(body, language, *names)
                    result.append(
                        TemplateOut(
                            kind=kind,
                            language=language,
                            channel=channel,
                            body=body,
                            custom=own is not None,
                            segments=check.segments,
                            gsm7=check.gsm7,
                            multipart=bool(own and own[1]),
                            sample=check.sample,
                        )
                    )
        return result

    @put(
        "/{kind:str}/{language:str}/{channel:str}",
        operation_id="putMessageTemplate",
        summary="Set the organisation's wording of one message (admin)",
        opt={"role": "admin"},
        sync_to_thread=True,
        responses=errors(not_found=False),
    )
    def put_template(
        self, db: Db, ctx: Ctx, now: Now, kind: Kind, language: Language, channel: Channel, data: JSONBody[TemplateIn]
    ) -> TemplateOut:
        """An SMS must fit one GSM-7 segment at its longest (the organisation's longest provider
        name, a full link) unless `multipart` accepts the cost; 422 names the field otherwise."""
        with db.transaction(ctx) as conn:
            try:
                check = catalogue.save(conn, ctx.org_id, kind, language, channel, data.body, data.multipart, now)
            except catalogue.TemplateError as exc:
                message = str(exc).partition(": ")[2] or str(exc)
                source = "path" if exc.field in ("kind", "language", "channel") else "body"
                raise invalid(exc.field, message, source) from None
        return TemplateOut(
            kind=kind,
            language=language,
            channel=channel,
            body=data.body,
            custom=True,
            segments=check.segments,
            gsm7=check.gsm7,
            multipart=data.multipart and check.segments > 1,
            sample=check.sample,
        )
