"""`validate` and `score` on files written by someone who read only the spec."""

from __future__ import annotations

import asyncio
import csv
import json
import random
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from rich.cells import cell_len
from typer.testing import CliRunner

import main
from domain.catalog import Catalog
from domain.validation import check_record, check_records
from main import app
from services import record_files
from services.record_files import stream_records
from settings import Settings
from storage.db import create_engine, session_factory
from tests.chat.test_scores import cohort
from tests.factories import as_row, typed_record

runner = CliRunner()

# As typed by a person reading fields.md: canonical keys, money with units and separators.
HAND_WRITTEN_CSV = """\
enterprise_name,credit_code,registration_date,region_code,operating_status,qualifications,contact_name,contact_mobile,contact_email,enterprise_scale,tech_field,industry_code,is_private,has_party_org,rd_institution,main_products,key_technologies,rd_expense_2025,employees_2025,rd_staff_2025,high_edu_staff_2025,invention_patents,ip_count,tech_contract_absorbed_2025,tech_contract_output_2025,standards_count,main_business_revenue_2025,operating_revenue_2025,operating_revenue_2024,net_profit_2025,equity_begin_2025,equity_end_2025,total_assets_2025,total_liabilities_2025,taxes_paid_2025,municipal_projects,provincial_projects,municipal_awards,provincial_awards,financing_amount,financing_history
大连海创智能装备有限公司,91210211MA0Y4LKX4K,2018年5月20日,大连市甘井子区,存续,高新技术企业、科技型中小企业,张伟,138 1234 5678,zhangwei@example.com,小型,先进制造与自动化,C3421,是,否,企业自建,数控机床主轴,热变形补偿技术,350,120人,30,45,5,28,80,120,1,"4,200",4500万,0.39亿,320,2800,3100,6000,2900,210,2,1,0,0,500,银行贷款
大连某某物业有限公司,91210211MA0Y4LKX4K,2025/3/1,210211,存续,无,李娜,13912345678,lina@example.com,小型,其他,C3421,是,否,无,物业管理,无,0,10,2,2,0,0,0,0,0,４６００,4500,120,50,100,150,600,300,20,0,0,0,0,0,无
"""


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_validate_json_on_a_hand_written_csv(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    path.write_text(HAND_WRITTEN_CSV, encoding="utf-8")
    code, out = run("validate", str(path), "--format", "json")
    assert code == 1
    first, second = json.loads(out)
    assert first == {"credit_code": "91210211MA0Y4LKX4K", "strong": [], "weak": [], "messages": []}
    assert second["strong"] == ["S1", "S6", "S7"]
    assert second["weak"] == ["W1", "W13", "W15", "W16", "W-balance"]  # 600 ≠ 300 + 150
    s1 = next(m for m in second["messages"] if m["rule"] == "S1")
    assert s1["field"] == "main_business_revenue_2025" and "4,600 万元" in s1["text"]


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_each_record_of_a_file_reads_as_it_would_alone(
    tmp_path: Path, catalog: Catalog, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns in another order, one that names no field, a short row, a record with other keys:
    each record's answers map its field names as a dictionary would, and `validate` says of
    each what checking it alone says, the file read in pieces and checked in batches."""
    monkeypatch.setattr(main, "_BATCH", 7)
    monkeypatch.setattr(record_files, "_BLOCK", 512)
    rng = random.Random(5)
    rows = [as_row(typed_record(rng, catalog), catalog) for _ in range(30)]
    keys = [*reversed(list(rows[0])), "备注"]
    table = [[row[k] for k in keys[:-1]] + ["x"] for row in rows]
    table[3] = table[3][:10]  # the rest of the row left blank
    path = tmp_path / f"f.{suffix}"
    if suffix == "csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([keys, *table])
    else:
        items = [dict(zip(keys, cells, strict=False)) for cells in table]
        del items[5]["net_profit_2025"]
        path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    records = list(stream_records(path, catalog).records)
    first = catalog.field_for_header(keys[0]).name  # type: ignore[union-attr]
    alone = [check_record(dict(r.answers), catalog) for r in records]
    assert [
        (r.values, r.findings) for r in check_records([r.answers for r in records], catalog)
    ] == [(r.values, r.findings) for r in alone]
    for record in records:
        answers = dict(record.answers)
        assert record.answers == answers and list(record.answers.values()) == list(answers.values())
        assert "备注" not in record.answers and first in record.answers
        assert record.answers.get("credit_code") == answers.get("credit_code")
    assert alone[3].strong == ["E-required"] and not alone[0].findings
    _, out = run("validate", str(path), "--format", "json")
    printed = json.loads(out.splitlines()[-1])  # after the line naming the column ignored
    assert [item["strong"] for item in printed] == [r.strong for r in alone]


def test_validate_table_and_exit_zero_when_nothing_blocks(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("\n".join(HAND_WRITTEN_CSV.splitlines()[:2]) + "\n", encoding="utf-8")
    code, out = run("validate", str(path))
    assert code == 0
    assert "共 1 条记录：0 条有强规则问题" in out


def _write_xlsx(path: Path, rows: list[dict[str, object]]) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    book.save(path)


def test_validate_xlsx_with_chinese_labels_and_real_cell_types(
    tmp_path: Path, catalog: Catalog, clean: dict[str, object]
) -> None:
    row = as_row(clean, catalog, labels=True)
    row["注册日期"] = date(2018, 5, 20)  # a date cell
    row["2025年度研发费用"] = 350.5  # a number cell
    row["备注"] = "无"  # a column that names no field
    path = tmp_path / "enterprises.xlsx"
    _write_xlsx(path, [row])
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["strong"] == []
    assert "已忽略无法识别的列：备注" in result.stderr


def test_validate_json_array(tmp_path: Path, catalog: Catalog, clean: dict[str, object]) -> None:
    record = as_row(clean, catalog)
    record["operating_revenue_2025"] = 45000000  # typed in 元, as a JSON number
    path = tmp_path / "records.json"
    path.write_text(json.dumps([record, {"credit_code": "91210211MA0Y4LKX4H"}], ensure_ascii=False))
    code, out = run("validate", str(path), "--format", "json")
    first, second = json.loads(out)
    assert code == 1
    assert "W-unit" in first["weak"] and first["strong"] == []
    assert second["credit_code"] == "91210211MA0Y4LKX4H"
    assert second["strong"] == ["E-required", "E-uscc"]


def test_gbk_csv_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("企业名称,统一社会信用代码\n大连海创,91210211MA0Y4LKX4K\n".encode("gbk"))
    code, out = run("validate", str(path), "--format", "json")
    assert code == 1 and json.loads(out)[0]["credit_code"] == "91210211MA0Y4LKX4K"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.csv", None, "missing.csv：无法读取"),
        ("bad.json", "{not json", "bad.json：不是有效的 JSON"),
        ("object.json", '{"credit_code": "x"}', "应为记录数组"),
        ("scalar.json", "[1, 2]", "第 1 条记录不是对象"),
        ("nested.json", '[{"rd_expense_2025": {"a": 1}}]', "第 1 条记录，“rd_expense_2025”"),
        ("nan.json", '[{"rd_expense_2025": NaN}]', "不是有效的 JSON"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "deep.json：不是可读取的 JSON：嵌套层数过多"),
        (
            "long.json",
            '[{"enterprise_name": "%s"}]' % ("长" * 2001),
            "第 1 条记录，“enterprise_name”有 2,001 字",
        ),
        ("wide.csv", "企业名称\n甲,乙\n", "第 2 行的单元格多于表头"),
        (
            "twice.csv",
            "企业名称,enterprise_name\n甲,乙\n",
            "第 1 列和第 2 列是同一字段（企业名称）",
        ),
        ("empty.csv", "", "文件为空"),
        ("nothing.csv", "序号,备注\n1,2\n", "没有可识别的表头"),
        ("garbage.xlsx", "not a zip", "不是有效的 Excel 文件"),
        ("records.txt", "x", "不支持的文件类型"),
    ],
)
def test_unreadable_input_exits_2_naming_file_row_and_column(
    tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    for command in ("validate", "score", "import"):
        result = runner.invoke(app, [command, str(path)])
        assert result.exit_code == 2
        assert expected in result.stderr
        assert "Traceback" not in result.output


def test_a_broken_campaign_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "2026.toml").write_text("year = 'soon'\n", encoding="utf-8")
    monkeypatch.setenv("CXJF_CAMPAIGNS_DIR", str(tmp_path))
    path = tmp_path / "x.csv"
    path.write_text(HAND_WRITTEN_CSV, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "2026.toml" in result.stderr and "year" in result.stderr


def test_score_json(tmp_path: Path, catalog: Catalog) -> None:
    path, _ = _cohort_file(tmp_path, catalog, 40)
    code, out = run("score", str(path), "--format", "json")
    scores = json.loads(out)
    assert code == 0 and len(scores) == 40
    first = scores[0]
    assert set(first) >= {
        "credit_code",
        "stage",
        "core",
        "bonus",
        "bonus_parts",
        "total",
        "indicators",
    }
    assert first["label"] == "预估积分" and first["stage"] == "成长期"
    assert 0 <= first["core"] <= 100 and first["total"] == pytest.approx(
        first["core"] + first["bonus"], abs=0.01
    )
    assert [i["id"] for i in first["indicators"]][:2] == ["rd_expense", "rd_intensity"]
    assert sum(i["weight"] for i in first["indicators"]) == 100
    code, out = run("score", str(path))
    assert code == 0 and "预估积分" in out


def _cohort_file(tmp_path: Path, catalog: Catalog, size: int) -> tuple[Path, list[dict]]:  # type: ignore[type-arg]
    rng = random.Random(3)
    records = []
    for _ in range(size):
        record = typed_record(rng, catalog)
        record["registration_date"] = date(2019, 1, 1)  # one stage: 成长期
        records.append(record)
    return _write_rows(tmp_path, [as_row(r, catalog) for r in records]), records


def test_score_counts_only_scorable_records_and_sorts_the_table(
    tmp_path: Path, catalog: Catalog
) -> None:
    path, records = _cohort_file(tmp_path, catalog, 30)
    broken = dict(records[4], main_business_revenue=records[4]["operating_revenue"] + 1)  # S1
    path = _write_rows(tmp_path, [as_row(r, catalog) for r in (*records[:4], broken, *records[5:])])
    code, out = run("score", str(path), "--format", "json")
    scores = json.loads(out)
    assert code == 0 and scores[4]["core"] is None and scores[4]["total"] is None
    assert scores[4]["note"] == "未计分：未通过 S1（营业收入不小于主营业务收入）"
    assert all(s["core"] is None and s["cohort_size"] == 29 for s in scores)  # 29 < 30
    path, records = _cohort_file(tmp_path, catalog, 31)
    rows = [as_row(r, catalog) for r in records]
    rows[0]["operating_status"] = "注销"  # E-status
    code, out = run("score", str(_write_rows(tmp_path, rows)), "--format", "json")
    scores = json.loads(out)
    assert code == 0
    assert [s["credit_code"] for s in scores] == [r["credit_code"] for r in records]  # file order
    assert scores[0]["note"].startswith("未计分：未通过 E-status")
    assert all(s["core"] is not None and s["cohort_size"] == 30 for s in scores[1:])
    code, out = run("score", str(path))
    totals = [line.split("│")[-2].strip() for line in out.splitlines() if "│ 成长期" in line]
    assert code == 0 and totals[-1] == "—"  # the unscored one last
    assert totals[:-1] == sorted(totals[:-1], key=float, reverse=True) and len(totals) == 31
    assert "第 2 行" in out and "未计分：未通过 E-status" in out


def _write_rows(tmp_path: Path, rows: list[dict]) -> Path:  # type: ignore[type-arg]
    path = tmp_path / "cohort.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_score_table_when_the_cohort_is_too_small(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(HAND_WRITTEN_CSV, encoding="utf-8")
    code, out = run("score", str(path))
    assert code == 0 and "不足 30 家" in out


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "credit_code",
                    "rd_expense_2025",
                    "企业名称",
                    "registration_date",
                    "qualifications",
                    "employees_2025",
                    "region_code",
                    "unknown",
                ]
            ),
            JSON_VALUES,
            max_size=8,
        ),
        max_size=4,
    )
)
def test_no_file_however_strange_crashes_the_commands(
    tmp_path: Path, records: list[dict[str, object]]
) -> None:
    path = tmp_path / "strange.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    for command in ("validate", "score", "import"):
        result = runner.invoke(app, [command, str(path), "--format", "json"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1, 2)


@pytest.mark.parametrize(
    ("token", "expected"), [("", "BOT_TOKEN 未设置"), ("abc", "BOT_TOKEN 格式不对")]
)
def test_run_without_a_usable_token(
    monkeypatch: pytest.MonkeyPatch, token: str, expected: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", token)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and expected in result.stderr
    assert "Traceback" not in result.output
    if token:  # a secret is never echoed, even a malformed one
        assert token not in result.stderr.replace("BotFather", "")


@pytest.mark.parametrize(
    ("url", "secret", "expected"),
    [
        ("", "a-long-enough-secret", "WEBHOOK_URL 未设置"),
        ("http://bot.example.com", "a-long-enough-secret", "不是 https://"),
        ("https://bot.example.com", "bad secret!", "WEBHOOK_SECRET 未设置或格式不对"),
    ],
)
def test_a_webhook_that_cannot_work_is_refused_before_starting(
    monkeypatch: pytest.MonkeyPatch, url: str, secret: str, expected: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456789:" + "A" * 35)
    monkeypatch.setenv("WEBHOOK_URL", url)
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    result = runner.invoke(app, ["run", "--webhook"])
    assert result.exit_code == 2 and expected in result.stderr
    assert secret not in result.stderr and "Traceback" not in result.output


def test_invite_an_official_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BOT_USERNAME", "cxjf_bot")
    code, out = run("invite", "official", "city", "210200")
    assert (
        code == 0 and "大连市科技局 审核人员链接" in out and "https://t.me/cxjf_bot?start=" in out
    )
    code, out = run("invite", "official", "province")
    assert code == 0 and "辽宁省科技厅 审核人员链接" in out
    code, out = run("invite", "group", "county", "210211")
    assert code == 0 and "/bindgroup " in out
    code, out = run("invite", "coordinator")
    assert code == 0 and "填报协调人链接" in out and "https://t.me/cxjf_bot?start=" in out
    result = runner.invoke(app, ["invite", "official", "county", "000000"])
    assert result.exit_code == 2 and "没有代码 000000" in result.stderr
    monkeypatch.delenv("BOT_USERNAME")
    result = runner.invoke(app, ["invite", "admin"])
    assert "https://t.me/<bot>?start=" in result.output and "未设置 BOT_USERNAME" in result.stderr


@pytest.fixture
def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database of its own (in the returned folder) holding the hand-written CSV's enterprise."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / "enterprises.csv"
    path.write_text(HAND_WRITTEN_CSV, encoding="utf-8")
    run("import", str(path))
    return tmp_path


def test_import_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / "enterprises.csv"
    path.write_text(HAND_WRITTEN_CSV, encoding="utf-8")  # the second row repeats the first's code
    code, out = run("import", str(path), "--dry-run")
    assert code == 1 and "试运行" in out and "新建 1，更新 0，未变 0，拒绝 1" in out
    code, out = run("import", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["counts"] == {
        "created": 1, "updated": 0, "unchanged": 0, "rejected": 1
    }  # fmt: skip
    assert report["rows"][1]["reason"] == "与第 2 行的统一社会信用代码重复"
    code, out = run("import", str(path))
    assert "新建 0，更新 0，未变 1，拒绝 1" in out


def test_links_for_every_enterprise_of_a_region(
    imported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_USERNAME", "cxjf_bot")
    out = imported / "links.csv"
    code, said = run("invite", "enterprises", "--region", "210200", "--out", str(out))
    assert code == 0 and "已为 1 家企业生成邀请链接" in said
    with out.open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 1 and rows[0]["企业名称"] == "大连海创智能装备有限公司"
    assert (rows[0]["所在市"], rows[0]["所在区县"]) == ("大连市", "甘井子区")
    assert rows[0]["邀请链接"].startswith("https://t.me/cxjf_bot?start=")
    assert rows[0]["联系人手机"] == "13812345678" and rows[0]["已绑定联系人"] == "0"
    code, said = run("invite", "enterprises", "--region", "210100", "--out", str(out))
    assert code == 0 and "已为 0 家企业" in said
    result = runner.invoke(app, ["invite", "enterprises", "--region", "219999"])
    assert result.exit_code == 2 and "没有代码为 219999" in result.stderr


def test_status_from_the_command_line(imported: Path) -> None:
    code, out = run("status", "--format", "json")
    view = json.loads(out)
    assert code == 0 and view["scope"] == "辽宁省" and view["by"] == "city"
    assert view["total"]["total"] == 1 and view["total"]["counts"]["not_started"] == 1
    assert [r["total"] for r in view["rows"] if r["name"] == "大连市"] == [1]
    code, out = run("status", "大连")
    assert code == 0 and "大连市 · 2026 年填报进度" in out and "甘井子区" in out and "0.0%" in out
    code, out = run("status", "--by", "county", "--format", "json")
    assert len(json.loads(out)["rows"]) == 100  # every county-level unit of the province
    assert json.loads(out)["total"]["waiting"] == {"county": 0, "city": 0, "province": 0}
    for args in (["status"], ["status", "--by", "county"], ["status", "大连"]):
        result = CliRunner(env={"COLUMNS": "80"}).invoke(app, args)
        lines = result.output.splitlines()
        assert max(map(cell_len, lines)) <= 80 and "审核进度" in result.output
        assert any(line.split()[-1:] == ["0.0%"] for line in lines)  # the rate, unbroken
        assert "未开始" in result.output and "最久等待" in result.output
    result = runner.invoke(app, ["status", "火星"])
    assert result.exit_code == 2 and "没有找到地区“火星”" in result.stderr


def test_export_from_the_command_line(imported: Path) -> None:
    out = imported / "all.xlsx"
    code, said = run("export", "大连", "--out", str(out))
    assert code == 0 and "已导出 1 家企业（大连市 · 全部）" in said
    sheet = load_workbook(out)["表单"]
    assert sheet.max_row == 2 and sheet["A2"].value == "大连海创智能装备有限公司"
    code, said = run("export", "--status", "reported", "--out", str(out))
    assert code == 0 and "已导出 0 家企业" in said
    page = imported / "form.html"
    code, said = run("export", "--enterprise", "91210211ma0y4lkx4k", "--out", str(page))
    assert code == 0 and "尚未签署" in page.read_text(encoding="utf-8")
    result = runner.invoke(app, ["export", "--enterprise", "91210211MA0Y4LKX4K", "沈阳"])
    assert result.exit_code == 2 and "不在所选地区" in result.stderr


def test_chart_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    out = tmp_path / "progress.png"
    code, _ = run("chart", "大连", "--out", str(out))
    assert code == 0 and out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_scoring_run_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    code, said = run("score", "--campaign", "2026", "--submitted")
    assert code == 0 and "已计算 0 份已提交的表单" in said

    async def submitted_forms() -> None:
        engine = create_engine(url)
        await cohort(SimpleNamespace(sessions=session_factory(engine), catalog=catalog), 31)  # type: ignore[arg-type]
        await engine.dispose()

    catalog = Settings().catalog()
    asyncio.run(submitted_forms())
    code, said = run("score", "--submitted", "--format", "json")
    assert code == 0 and json.loads(said) == {
        "scored": 31, "changed": 31, "removed": 0, "without_core": 0,
        "enterprises_told": 0, "bureaus_told": 0, "stages": {"成长期": 31},
    }  # fmt: skip
    code, said = run("score", "--submitted")
    assert code == 0 and "已计算 31 份已提交的表单，0 份结果有变化" in said
    result = runner.invoke(app, ["score"])
    assert result.exit_code == 2 and "请给出文件" in result.stderr


def test_extend_from_the_command_line(imported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXJF_TODAY", "2026-06-27")
    code, out = run("extend", "--until", "2026-07-03")
    assert code == 0 and "辽宁省的填报截止日期已延至7月3日（已记录）" in out
    code, out = run("extend", "91210211MA0Y4LKX4K", "--until", "2026-07-10")
    assert code == 0 and "大连海创智能装备有限公司的填报截止日期已延至7月10日" in out
    result = runner.invoke(app, ["extend", "大连", "--until", "2026-06-20"])
    assert result.exit_code == 2 and "延期日期6月20日已经过去" in result.stderr
    result = runner.invoke(app, ["extend", "火星", "--until", "2026-07-03"])
    assert result.exit_code == 2 and "没有找到“火星”" in result.stderr
    result = runner.invoke(app, ["extend", "大连", "--until", "7月3日"])
    assert result.exit_code == 2 and "--until 应为日期" in result.stderr
