"""The form conversation of a bound contact: questions, answers, buttons, summary, submission.

Where the contact is lives in the FSM data (`at`, stored in the database): a contact who comes
back a week later, or after a restart, continues on the same screen. Every screen has a number;
its buttons carry it, so a button from an older message, or pressed twice, changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot import screens
from bot.filters import ANSWER, PLAIN_TEXT, PRIVATE, TEXT, Command
from bot.keyboards import Press
from bot.notifier import Resume
from bot.texts import fitted, paged, phrase, render, shown
from domain import units
from domain.catalog import LISTED, Catalog, Field, Kind
from domain.form import Step, before_section, next_step, previous_field
from domain.parsing import InputError, parse_value
from domain.rules import Finding, Severity
from services import form, review
from services.notifier import Notifier
from storage.fsm import set_data_soon
from storage.models import Contact, now
from storage.repositories import FormRow, Store

log = logging.getLogger(__name__)
CARRIED = ("units",)  # kept from screen to screen until used: a workbook's figures to ask about


class Flow:
    """One update's view of the conversation: the draft, the stored screen, how to move on."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        user_id: int,
        state: FSMContext,
        store: Store,
        notifier: Notifier,
        contact: Contact,
        draft: form.Draft,
        data: dict[str, Any],
    ) -> None:
        self.bot, self.chat_id, self.user_id = bot, chat_id, user_id
        self.state, self.store, self.notifier = state, store, notifier
        self.contact, self.draft, self.data = contact, draft, data
        self.catalog: Catalog = draft.catalog

    @classmethod
    async def open(
        cls,
        bot: Bot,
        chat_id: int,
        user_id: int,
        state: FSMContext,
        store: Store,
        catalog: Catalog,
        notifier: Notifier,
        contact: Contact,
        read: FormRow | None = None,
    ) -> Flow:
        """`read`: the contact's form as read with the sender (see `form.open_draft`)."""
        draft = await form.open_draft(store, contact, catalog, read)
        data = await state.get_data()
        return cls(bot, chat_id, user_id, state, store, notifier, contact, draft, data)

    @property
    def at(self) -> dict[str, str]:
        return self.data.get("at") or {}

    async def send(
        self,
        build: Any,
        at: dict[str, str],
        *,
        saved: str = "",
        pages: Any = None,
        **keep: Any,
    ) -> None:
        """Show a new screen: remember it first, so a crash never leaves buttons unknown; then
        the message it became, so text typed before it was shown is not taken as its answer.
        That second write is not committed on its own: it goes with the next write of the
        conversation's state, or with Redis as the update releases the conversation's lock
        (`storage.fsm.set_data_soon`: one statement and one commit fewer per screen). A process
        killed before then loses it for the one screen shown at the kill: a message typed before
        that screen appeared is taken as its answer. (With Redis everything the update wrote
        goes as it releases the lock; an instance killed before then leaves the conversation to
        be read as lost, and the form resumes where the person is: `storage.shared_fsm`.)

        A screen Telegram did not take (the person blocked the bot, Telegram was down, slow or
        limiting) is marked unseen: the person's next message is not an answer to it; they are
        told what was saved (`saved`) and shown it (`unseen_screen`). `pages`: messages of the
        same screen sent before it, their buttons as current as its own."""
        number = int(self.data.get("screen", 0)) + 1
        screen: screens.Screen = build(number)
        before: list[screens.Screen] = pages(number) if pages else []
        carried = {k: self.data[k] for k in CARRIED if self.data.get(k)}
        self.data = {
            "screen": number,
            "at": at,
            "back_to": self.data.get("back_to", ""),
            **carried,
            **keep,
        }
        if saved:
            self.data["saved"] = saved
        await self.state.set_data(self.data)
        try:
            for page in before:
                await self.bot.send_message(self.chat_id, page.text, reply_markup=page.markup)
            sent = await self.bot.send_message(
                self.chat_id, screen.text, reply_markup=screen.markup
            )
        except TelegramBadRequest:
            raise  # the screen itself is wrong: a bug, for the log
        except TelegramAPIError as failed:
            log.warning("screen %s for chat %s not delivered: %s", number, self.chat_id, failed)
            self.data["unseen"] = True
            await self.state.set_data(self.data)
            return
        self.data["message"] = sent.message_id
        await set_data_soon(self.state, self.data)

    async def missed(self, notice: str) -> None:
        """The person missed a reply (it was not delivered, or Telegram delivered their update
        again after it was applied): what was saved, then where they are."""
        await self.bot.send_message(self.chat_id, render(notice, saved=self.data.get("saved", "")))
        await self.resume()

    def next(self, after: str = "") -> Step:
        """The next screen (of a returned form: its reopened fields, then the summary)."""
        return next_step(self.catalog, self.draft.state, after, self.draft.reopened)

    # ---- screens ----------------------------------------------------------------------------

    async def resume(self, saved: str = "") -> None:
        """The current screen again, or where the form stands when there is none."""
        at = self.at
        if not self.draft.editable:
            await self.send(lambda n: screens.status(self.draft, n), {"kind": "done"})
        elif at.get("kind") == "field" and self.draft.may_change(at["field"]):
            # choices ticked but not yet 完成 stay ticked
            await self.ask(at["field"], saved=saved, picked=self.data.get("picked"))
        elif at.get("kind") == "summary":
            await self.summary()
        else:
            await self.show(self.next(), saved)

    async def show(self, step: Step, saved: str = "", wrapped: str = "") -> None:
        if step.kind == "summary" and await self.unit_question(saved):
            return
        if step.kind == "summary":
            await self.summary(saved)
        elif step.kind == "preloaded":
            await self.send(
                lambda n: screens.preloaded(self.draft, step.section, n, saved, wrapped),
                {"kind": "preloaded", "section": step.section},
                saved=saved,
            )
        else:
            await self.ask(step.field, saved=saved, wrapped=wrapped)

    async def unit_question(self, saved: str) -> bool:
        """A figure from a workbook that looks typed in 元, asked about before the summary,
        one at a time, while it still looks so; False when none is left."""
        pending = [
            (name, corrected)
            for name in self.data.get("units") or []
            if (corrected := self.in_yuan(name)) is not None
        ]
        if not pending:
            self.data.pop("units", None)
            return False
        name, corrected = pending[0]
        self.data["units"] = [n for n, _ in pending[1:]]
        await self.send(
            lambda n: screens.in_yuan(self.draft, name, corrected, n),
            {"kind": "unit", "field": name},
            saved=saved,
        )
        return True

    def in_yuan(self, name: str) -> Decimal | None:
        """The figure in 万元 if the field's stored value was likely typed in 元."""
        value = self.draft.values.get(name)
        if not isinstance(value, Decimal) or not self.draft.may_change(name):
            return None
        return units.in_yuan(name, value, self.draft.values, self.catalog)

    async def ask(
        self,
        name: str,
        *,
        error: str = "",
        saved: str = "",
        wrapped: str = "",
        picked: list[int] | None = None,
    ) -> None:
        """A field's question; `picked`: the choices ticked (by default, those stored)."""
        f = self.catalog.by_name[name]
        value = self.draft.values.get(name)
        if picked is None:
            picked = (
                [i for i, c in enumerate(f.choices) if value and c in value]  # type: ignore[operator]
                if f.kind is Kind.MULTI
                else []
            )
        offer = self.shared_phone() if name == "contact_mobile" and value is None else ""
        await self.send(
            lambda n: screens.question(
                self.draft,
                name,
                n,
                picked=picked,
                error=error,
                saved=saved,
                wrapped=wrapped,
                offer=offer,
            ),
            {"kind": "field", "field": name},
            saved=saved,
            picked=picked,
        )

    def shared_phone(self) -> str:
        """The number a contact bound with by sharing it: offered for 联系人手机号."""
        if self.contact.bound_via != "phone":
            return ""
        return self.draft.enterprise.contact_mobile or ""

    async def moved(self, locked: form.FormLocked) -> None:
        """The form moved on while this contact was on a screen (another contact submitted it, a
        reviewer returned it): nothing they did was saved; say so and show where it stands."""
        await self.bot.send_message(
            self.chat_id,
            render(
                "form_moved",
                editable=locked.editable,
                by=locked.by,
                when=screens.local_time(self.draft, locked.at),
                status_name=screens.STATUS_NAMES.get(locked.status, locked.status),
            ),
        )
        self.draft = await form.open_draft(self.store, self.contact, self.catalog)
        self.data["at"] = {}  # the form's new state decides what comes next
        await self.resume()

    async def summary(self, saved: str = "") -> None:
        outstanding = self.draft.outstanding()
        score = await form.estimate(self.store, self.draft)
        await self.send(
            lambda n: screens.summary(self.draft, outstanding, score, n, saved),
            {"kind": "summary"},
            saved=saved,
        )

    async def advance(self, after: str, saved: str = "") -> None:
        """Where to go once a field is settled: back where the contact came from, or onwards."""
        back_to = self.data.pop("back_to", "")
        if back_to == "summary":
            await self.summary(saved)
            return
        if back_to.startswith("preloaded:"):
            section = back_to.split(":", 1)[1]
            if any(
                f.name in self.draft.state.unconfirmed for f in self.catalog.in_section(section)
            ):
                await self.show(Step("preloaded", section=section), saved)
                return
        step = self.next(after)
        await self.show(step, saved, self.wrapped(after, step))

    def wrapped(self, after: str, step: Step) -> str:
        """The section the form goes back to when the later ones are done ("" when it goes on)."""
        if not after or step.kind == "summary" or self.draft.returned:
            return ""
        names = [f.name for f in self.catalog.fields]
        first = step.field or next(  # a pre-loaded block: its first value not yet checked
            (
                f.name
                for f in self.catalog.in_section(step.section)
                if f.name in self.draft.state.unconfirmed
            ),
            self.catalog.in_section(step.section)[0].name,
        )
        if names.index(first) > names.index(after):
            return ""
        info = self.catalog.section(step.section)
        return f"第{screens.NUMERALS[info.number - 1]}部分“{info.title}”"

    async def skipped(self, name: str) -> None:
        """After a question is skipped: the next screen, saying so as it says what was saved."""
        await self.advance(name, f"{self.catalog.by_name[name].label}：{phrase('skip')}")

    async def answered(
        self,
        name: str,
        note: str = "",
        found: list[Finding] | None = None,
        in_yuan: Decimal | None = None,
    ) -> None:
        """After a value is stored: a figure likely typed in 元 is asked about first; then what
        it set off, on one screen; "已记录" only with the next question, once nothing is open."""
        f = self.catalog.by_name[name]
        saved = f"{f.label}：{shown(self.catalog, f, self.draft.values.get(name))}"
        found = self.draft.about(name) if found is None else found
        if in_yuan is not None:
            await self.send(
                lambda n: screens.in_yuan(self.draft, name, in_yuan, n),
                {"kind": "unit", "field": name},
                saved=saved,
            )
        elif found:
            weak = [x for x in found if x.severity is Severity.WEAK]
            await self.send(
                lambda n: screens.problems(self.draft, name, found, n),
                {"kind": "problems", "field": name},
                saved=saved,
                shown=screens.finding_refs(self.draft, weak),
            )
        elif note:
            await self.send(
                lambda n: screens.conversion(self.draft, name, note, n, saved),
                {"kind": "conversion", "field": name},
                saved=saved,
            )
        else:
            await self.advance(name, saved)


class OpenFlow(BaseMiddleware):
    """For the form's handlers: the sender's draft and conversation, as `flow`."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        message = event if isinstance(event, Message) else getattr(event, "message", None)
        user = data["event_from_user"]
        data["flow"] = await Flow.open(
            data["bot"],
            message.chat.id,
            user.id,
            data["state"],
            data["store"],
            data["catalog"],
            data["notifier"],
            data["contact"],
            data.get("contact_form"),
        )
        return await handler(event, data)


# ---- messages --------------------------------------------------------------------------------


# Screens about the answer just given: typing there answers the same question again.
CHECKS = ("problems", "unit", "conversion")


async def on_text(message: Message, flow: Flow) -> None:
    if flow.data.get("unseen"):
        await flow.missed("unseen")
        return
    if message.message_id < int(flow.data.get("message", 0)):
        # typed before the current screen reached the chat: it answers an earlier one
        await message.answer(fitted("typed_before", text=message.text or ""))
        await flow.resume()
        return
    if not flow.draft.editable:
        await message.answer(screens.locked(flow.draft).text)
        return
    at = flow.at
    if at.get("kind") == "signer":
        await _typed_signer(flow, message.text or "")
        return
    if at.get("kind") not in ("field", *CHECKS) or not at.get("field"):
        if not at:  # first message ever, or after the conversation state was lost
            await flow.resume()
            return
        await message.answer(render("not_in_form"))
        return
    name = at["field"]  # on a figure's check screen, what is typed corrects the figure
    if not flow.draft.may_change(name):
        await message.answer(phrase("not_reopened"))
        await flow.show(flow.next())
        return
    try:
        result = await form.answer(flow.store, flow.draft, name, message.text or "", flow.user_id)
    except form.FormLocked as locked:
        await flow.moved(locked)
        return
    if result.error:
        await flow.ask(name, error=result.error)
        return
    if result.skipped:
        await flow.skipped(name)
        return
    await flow.answered(name, result.note, result.findings, result.in_yuan)


async def on_other(message: Message) -> None:
    """Stickers, photos, voice: the form is answered in text."""
    await message.answer(render("input_problem", problem=phrase("text_only")))


async def cmd_start(message: Message, flow: Flow) -> None:
    if flow.draft.editable and (notice := screens.window_notice(flow.draft)):
        await message.answer(notice)
    await flow.resume()


async def cmd_menu(message: Message, flow: Flow) -> None:
    if not flow.draft.editable:
        await flow.resume()  # nothing to choose: where the form stands
        return
    await flow.send(lambda n: screens.menu(flow.draft, n), {"kind": "menu"})


async def cmd_status(message: Message, flow: Flow) -> None:
    if not flow.draft.editable:
        await flow.resume()  # the status is the screen of a submitted form
        return
    await message.answer(screens.status(flow.draft).text)
    await flow.resume()


async def cmd_history(message: Message, flow: Flow) -> None:
    """The contact's own form's review history."""
    entries = await review.history(flow.store, flow.draft.submission.id)
    for page in paged("history", lines=screens.history_lines(flow.catalog, entries)):
        await message.answer(page)


async def on_resume(query: CallbackQuery, flow: Flow) -> None:
    """开始修改 on a return notice."""
    await query.answer()
    await flow.resume()


async def cmd_help(message: Message, flow: Flow) -> None:
    draft = flow.draft
    await message.answer(
        render("help", desk=screens.desk(draft), county=screens.county_name(draft))
    )
    await flow.resume()


# ---- buttons ---------------------------------------------------------------------------------


async def on_press(query: CallbackQuery, callback_data: Press, flow: Flow) -> None:
    if flow.data.get("unseen"):
        await query.answer()
        await flow.missed("unseen")
        return
    if callback_data.screen != flow.data.get("screen"):
        await query.answer(phrase("stale"))
        return
    if not flow.draft.editable and callback_data.act not in ("view", "menu"):
        await query.answer(phrase("locked"))
        return
    notice = await _act(flow, query, callback_data.act, callback_data.arg)
    await query.answer(notice or None)


def _buttons(f: Field) -> tuple[object, ...]:
    """The answers a field's question offers as buttons, by the number a press carries."""
    if f.kind is Kind.CHOICE:
        return f.choices
    if f.kind is Kind.YES_NO:
        return (True, False)
    return (LISTED,) if f.kind is Kind.RANK else ()


async def _act(flow: Flow, query: CallbackQuery, act: str, arg: str) -> str:
    """Carry out one button; the returned text, if any, pops up for the contact."""
    draft, catalog, at = flow.draft, flow.catalog, flow.at
    name = at.get("field", "")
    f = catalog.by_name.get(name)
    try:
        if act == "pick" and f is not None and (options := _buttons(f)):
            if not arg.isdecimal() or int(arg) >= len(options):
                return phrase("stale")
            await form.put(flow.store, draft, name, options[int(arg)], "typed", flow.user_id)
            await flow.answered(name)
        elif act == "tog" and f is not None and f.kind is Kind.MULTI:
            return await _toggle(flow, query, f.choices, f.exclusive, arg)
        elif act == "done" and f is not None and f.kind is Kind.MULTI:
            picked = sorted(flow.data.get("picked") or [])
            if not picked:
                return phrase("nothing_picked", none_option=f.exclusive, optional=not f.required)
            await form.put(
                flow.store, draft, name, tuple(f.choices[i] for i in picked), "typed", flow.user_id
            )
            await flow.answered(name)
        elif act in ("city", "county") and f is not None and f.kind is Kind.REGION:
            return await _region(flow, query, act, arg)
        elif act == "skip" and f is not None:
            if not await form.skip(flow.store, draft, name, flow.user_id):
                return phrase("required_no_skip")
            await flow.skipped(name)
        elif act == "back" and f is not None:
            previous = previous_field(catalog, draft.state, name, draft.changeable)
            if previous:
                await flow.ask(previous)
        elif act == "ok" and at.get("section"):
            await form.confirm_preloaded(flow.store, draft, at["section"], flow.user_id)
            await flow.advance(before_section(catalog, at["section"]))
        elif act == "fix" and at.get("section"):
            section = at["section"]
            flow.data["back_to"] = f"preloaded:{section}"
            await flow.send(
                lambda n: screens.fix_pick(draft, section, n), {"kind": "fix", "section": section}
            )
        elif act == "check" and arg in {s for s in draft.outstanding().unchecked_sections}:
            flow.data["back_to"] = "summary"
            await flow.show(Step("preloaded", section=arg))
        elif act == "go" and arg in catalog.by_name:
            if not draft.may_change(arg):
                return phrase("not_reopened")
            if at.get("kind") == "summary":
                flow.data["back_to"] = "summary"
            elif at.get("kind") in ("menu", "section", "problems"):
                flow.data["back_to"] = ""
            await flow.ask(arg)
        elif act == "keep" and f is not None and name in draft.values:
            result = await form.keep(flow.store, draft, name, flow.user_id)
            await flow.answered(name, found=result.findings)
        elif act == "offer" and name == "contact_mobile" and flow.shared_phone():
            result = await form.answer(flow.store, draft, name, flow.shared_phone(), flow.user_id)
            await flow.answered(name, result.note, result.findings)
        elif act == "unit" and f is not None:
            corrected = form.corrected_unit(draft, name)
            if corrected is None:
                return phrase("stale")
            await form.put(flow.store, draft, name, corrected, "corrected", flow.user_id)
            await flow.answered(name)
        elif act == "asis" and at.get("kind") == "unit":
            await form.keep_unit(flow.store, draft, name, flow.user_id)
            await flow.answered(name)
        elif act == "okall" and at.get("kind") == "problems":
            return await _all_checked(flow, name)
        elif act == "conv" and at.get("kind") == "conversion":
            await flow.answered(name)
        elif act == "warn":
            return await _confirm(flow, arg)
        elif act == "redo" and f is not None:
            await flow.ask(name)
        elif act == "next" and f is not None:
            await flow.advance(name)
        elif act == "menu" and not draft.editable:
            await flow.resume()
        elif act == "menu":
            await flow.send(lambda n: screens.menu(draft, n), {"kind": "menu"})
        elif act == "sec" and arg in {s.key for s in screens.SECTIONS}:
            await flow.send(lambda n: screens.section(draft, arg, n), {"kind": "section"})
        elif act == "sum":
            await flow.summary()
        elif act == "sign":
            return await _sign(flow)
        elif act == "signer" and at.get("kind") == "signer":
            await _commitment(flow, str(draft.values.get("contact_name", "")))
        elif act == "agree":
            return await _submit(flow, query)
        elif act == "view":
            for page in screens.view(draft):
                await flow.bot.send_message(flow.chat_id, page)
        else:
            return phrase("stale")
    except form.FormLocked as locked:
        await flow.moved(locked)
    return ""


async def _toggle(
    flow: Flow, query: CallbackQuery, choices: tuple[str, ...], exclusive: str, arg: str
) -> str:
    """Tick or untick a choice. The button says which (`3+`, `3-`), so a press delivered twice
    leaves it as pressed once."""
    index, on = arg[:-1], arg[-1:] == "+"
    if not index.isdecimal() or int(index) >= len(choices) or arg[-1:] not in "+-":
        return phrase("stale")
    i = int(index)
    picked = set(flow.data.get("picked") or [])
    if not on:
        picked.discard(i)
    elif choices[i] == exclusive:
        picked = {i}  # “无” clears the others
    else:
        picked = {p for p in picked if choices[p] != exclusive} | {i}
    flow.data["picked"] = sorted(picked)
    flow.data.pop("saved", None)  # nothing is stored until 完成
    await flow.state.set_data(flow.data)
    screen = screens.question(
        flow.draft, flow.at["field"], int(flow.data["screen"]), picked=sorted(picked)
    )
    if query.message is not None:
        await flow.bot.edit_message_reply_markup(
            chat_id=flow.chat_id, message_id=query.message.message_id, reply_markup=screen.markup
        )
    return ""


async def _region(flow: Flow, query: CallbackQuery, act: str, arg: str) -> str:
    regions = flow.catalog.campaign.regions
    name = flow.at["field"]
    if act == "county":
        if arg not in regions.counties:
            return phrase("stale")
        await form.put(flow.store, flow.draft, name, arg, "typed", flow.user_id)
        await flow.answered(name)
        return ""
    if arg and arg not in regions.cities_by_code:
        return phrase("stale")
    screen = screens.question(flow.draft, name, int(flow.data["screen"]), city=arg)
    if query.message is not None:
        await flow.bot.edit_message_reply_markup(
            chat_id=flow.chat_id, message_id=query.message.message_id, reply_markup=screen.markup
        )
    return ""


async def _confirm(flow: Flow, ref: str) -> str:
    """第 N 项无误 on the summary."""
    draft = flow.draft
    finding = screens.find_finding(draft, ref, draft.outstanding().to_confirm)
    if finding is None:
        return phrase("stale")
    await form.confirm_warnings(flow.store, draft, [finding], flow.user_id)
    await flow.summary()
    return phrase("saved")


async def _all_checked(flow: Flow, name: str) -> str:
    """数据无误: the warnings shown on the answer's screen, if they are still those."""
    weak = [x for x in flow.draft.about(name) if x.severity is Severity.WEAK]
    if set(screens.finding_refs(flow.draft, weak)) != set(flow.data.get("shown") or []):
        await flow.answered(name)  # the figures changed meanwhile: show what holds now
        return ""
    await form.confirm_warnings(flow.store, flow.draft, weak, flow.user_id)
    await flow.answered(name)
    return phrase("saved")


async def _sign(flow: Flow) -> str:
    """签署承诺书并提交: every value once more, section by section, then who signs. What the
    contact is shown here is what the signature covers (`signed`)."""
    if not flow.draft.outstanding().ready or flow.draft.when != "open":
        await flow.summary()
        return ""
    signed = form.data_hash(flow.draft.enterprise.credit_code, flow.draft.answers)
    await flow.send(
        lambda n: screens.signer(flow.draft, n),
        {"kind": "signer"},
        pages=lambda n: screens.review(flow.draft, n),
        signed=[signed, now().isoformat()],
    )
    return ""


async def _typed_signer(flow: Flow, typed: str) -> None:
    """Another person signs: their name, read as the form reads a contact's name."""
    name = flow.catalog.by_name["contact_name"]
    try:
        parsed = parse_value(name, typed, flow.catalog)
    except InputError as exc:  # what is wrong with a contact's name, said of the signer
        parsed, error = None, phrase("signer_problem", problem=exc.problem, hint=exc.hint)
    else:
        error = "" if parsed is not None else phrase("signer_missing")
    if parsed is None:
        signed = flow.data.get("signed")
        await flow.send(
            lambda n: screens.signer(flow.draft, n, error), {"kind": "signer"}, signed=signed
        )
        return
    await _commitment(flow, str(parsed.value))


async def _commitment(flow: Flow, signer: str) -> None:
    """The 承诺书 with the signer's name, to read and accept."""
    if not flow.draft.outstanding().ready:
        await flow.summary()
        return
    text = screens.commitment_text(flow.draft, signer, now())
    await flow.send(
        lambda n: screens.commitment(flow.draft, text, n),
        {"kind": "commitment"},
        commitment=text,
        signer=signer,
        signed=flow.data.get("signed"),
    )


async def _submit(flow: Flow, query: CallbackQuery) -> str:
    text = flow.data.get("commitment")
    if flow.at.get("kind") != "commitment" or not text:
        return phrase("stale")
    digest, at = flow.data.get("signed") or ("", "")
    signed = (digest, datetime.fromisoformat(at)) if digest else None
    try:
        refused = await form.submit(
            flow.store,
            flow.draft,
            flow.user_id,
            text,
            flow.notifier,
            signed,
            str(flow.data.get("signer", "")),
        )
    except form.FormChanged as changed:
        await flow.bot.send_message(flow.chat_id, render("form_changed", by=changed.by))
        flow.draft = await form.open_draft(flow.store, flow.contact, flow.catalog)
        await flow.summary()
        return ""
    if refused in ("not_ready", "not_yet", "closed"):
        await flow.summary()  # which says when the form may be submitted, and whom to ask
        return ""
    if refused == "locked":
        return phrase("locked")
    await flow.send(lambda n: screens.submitted(flow.draft, n), {"kind": "done"})
    return ""


async def bound(event: object, contact: Contact | None = None) -> bool:
    """The sender is a confirmed contact of an enterprise."""
    return contact is not None and contact.status == "active"


def answers() -> Router:
    """The form's answers and button presses (`Answer`), the usual update: before every other
    router, which they would only pass by; anything else goes on to them and to `router`."""
    r = Router(name="answers")
    r.message.filter(ANSWER)
    r.callback_query.filter(ANSWER)
    r.message.register(on_text)
    r.callback_query.register(on_press, Press.filter())
    r.message.middleware(OpenFlow())
    r.callback_query.middleware(OpenFlow())
    return r


def router() -> Router:
    """A new router (aiogram attaches a router to one dispatcher only)."""
    r = Router(name="form")
    r.message.filter(PRIVATE, bound)
    r.callback_query.filter(bound)
    r.message.register(on_text, PLAIN_TEXT)  # an answer, the usual update: checked first
    r.message.register(cmd_start, Command("start"))
    r.message.register(cmd_menu, Command("menu"))
    r.message.register(cmd_status, Command("status"))
    r.message.register(cmd_help, Command("help"))
    r.message.register(cmd_history, Command("history"))
    r.message.register(on_text, TEXT)  # a command it has none for
    r.message.register(on_other)
    r.callback_query.register(on_press, Press.filter())
    r.callback_query.register(on_resume, Resume.filter())
    r.message.middleware(OpenFlow())
    r.callback_query.middleware(OpenFlow())
    return r
