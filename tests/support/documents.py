"""A small Sở Tư pháp body's documents as written by hand: a plan whose dates come in every
shape documents use (a monthly report, a month, "before" a day, no date), a campaign with its
steps, and its decisions; loaded on 10/01/2026 by the `documents` fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.clock import Clock
from tests.support.databases import load_files

PLAN = """\
organization: STP-LS
plan:
  year: 2026
  title: Kế hoạch thi đua, khen thưởng thử nghiệm năm 2026
  tasks:
    - no: 1
      quarter: 1
      content: Tổ chức phát động phong trào thi đua năm 2026
      units: [ALL]
    - no: 2
      content: Báo cáo kết quả công tác thi đua, khen thưởng hằng tháng
      units: [ALL]
      repeat: monthly
      day: 25
    - no: 3
      content: Tổng kết công tác thi đua, khen thưởng năm 2026
      units: [HCTP, VP]
      due: 2026-12
    - no: 4
      content: Gửi hồ sơ đề nghị khen thưởng cấp trên
      units: [HCTP]
      due_before: 2026-12-10
    - no: 5
      quarter: 4
      content: Tham gia các hoạt động của Cụm thi đua
      units: [HCTP]
"""

CAMPAIGN = """\
organization: STP-LS
campaign:
  code: TD-2026
  title: Phong trào thi đua chuyên đề năm 2026
  kind: chuyen_de
  start: 2026-01-01
  end: 2026-12-31
  units: [HCTP, BTTP, VP]
  launch_at: 2026-01-05 08:00
  registration_deadline: 2026-01-20
  dossier_deadline: 2026-11-30
  titles:
    tap_the: [Tập thể lao động tiên tiến]
  awards:
    - {code: GK, name: Giấy khen của Giám đốc Sở, target: any, decided_by: Giám đốc Sở}
    - {code: BK, name: Bằng khen của Chủ tịch UBND tỉnh, target: any,
       decided_by: Chủ tịch UBND tỉnh}
  documents:
    - {code: BC, name: Báo cáo thành tích, per: nominee}
  deadlines:
    - {code: BCSK, title: Báo cáo sơ kết phong trào, after: registration, days: 5,
       working_days: true}
    - {code: BCQ1, title: Báo cáo kết quả quý I, due: 2026-03}
    - {code: DS, title: Danh sách đề nghị của Phòng Bổ trợ tư pháp, due_before: 2026-03-10,
       units: [BTTP]}
    - {code: TH, title: Tổng hợp hồ sơ trình Hội đồng, after: dossier, days: 5,
       working_days: true, who: office}
"""

RESULTS = """\
organization: STP-LS
results:
  campaign: TD-2026
  decision: 12/QĐ-STP
  decided_by: Giám đốc Sở Tư pháp
  publish_at: 2026-02-01 08:00
  items:
    - {unit: HCTP, nominee: Phòng Hành chính tư pháp, award: GK}
    - {unit: BTTP, nominee: Trần Văn Bình, award: GK}
---
organization: STP-LS
results:
  campaign: TD-2026
  decision: 345/QĐ-UBND
  decided_by: Chủ tịch UBND tỉnh Lạng Sơn
  publish_at: 2026-02-05 08:00
  items:
    - {unit: HCTP, nominee: Nguyễn Thị Mai, award: BK}
---
organization: STP-LS
results:
  campaign: TD-2026
  decision: 99/QĐ-STP
  publish_at: 2026-12-20 08:00
  items:
    - {unit: HCTP, nominee: Lê Văn Cường, award: GK}
"""


def write_documents(tmp_path: Path, **texts: str) -> list[Path]:
    """The plan, the campaign (and anything else given) as files in tmp_path."""
    paths = []
    for name, text in {"plan": PLAN, "campaign": CAMPAIGN, **texts}.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture
async def documents(sandbox: Sandbox, clock: Clock, tmp_path: Path) -> Sandbox:
    """10/01/2026 with the test plan, the campaign with its steps and its decisions loaded."""
    clock.set_local("2026-01-10 09:00")
    await load_files(sandbox.db, *write_documents(tmp_path, results=RESULTS))
    return sandbox
