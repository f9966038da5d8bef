"""The bot's commands per role, with the descriptions Telegram shows in its menu."""

from __future__ import annotations

from dataclasses import dataclass

# The bot's display name, as BotFather would have it (the emulator answers getMe with it).
BOT_NAME = "ThiĐua bot"

FOCAL, OFFICE, LEADER = "focal", "office", "leader"
ALL_ROLES = (FOCAL, OFFICE, LEADER)

# "Bạn tham gia với vai trò <label> của <unit name>".
ROLE_LABELS = {
    FOCAL: "đầu mối thi đua",
    OFFICE: "cán bộ thường trực thi đua, khen thưởng",
    LEADER: "lãnh đạo",
}
# "Lệnh này chỉ dành cho <audience>".
ROLE_AUDIENCES = {
    FOCAL: "đầu mối thi đua của các đơn vị",
    OFFICE: "Văn phòng Sở",
    LEADER: "Lãnh đạo Sở",
}


@dataclass(frozen=True, slots=True)
class Command:
    """A command, its menu description and who may use it."""

    name: str
    description: str
    roles: tuple[str, ...]


COMMANDS: tuple[Command, ...] = (
    Command("dangky", "Đăng ký thi đua của đơn vị", (FOCAL,)),
    Command("nophoso", "Nộp tệp hồ sơ khen thưởng", (FOCAL,)),
    Command("hoso", "Hồ sơ của đơn vị: còn thiếu gì, còn bao nhiêu ngày", (FOCAL,)),
    Command("duyet", "Duyệt hồ sơ khen thưởng, tải ZIP", (OFFICE,)),
    Command("thongbao", "Gửi thông báo đến các đơn vị", (OFFICE,)),
    Command("phatdong", "Phát động phong trào, xem lịch phát động", (OFFICE,)),
    Command("ketqua", "Kết quả khen thưởng đã công bố", ALL_ROLES),
    Command("nhiemvu", "Nhiệm vụ thi đua của quý", ALL_ROLES),
    Command("lich", "Các hạn sắp tới", ALL_ROLES),
    Command("tonghop", "Tổng hợp đăng ký, tiến độ và tệp Excel", (OFFICE, LEADER)),
    Command("donvi", "Danh sách đơn vị và đầu mối đã tham gia", (OFFICE, LEADER)),
    Command("moi", "Tạo mã mời cho đơn vị", (OFFICE,)),
    Command("trogiup", "Các lệnh bạn dùng được", ALL_ROLES),
    Command("huy", "Thoát thao tác đang làm", ALL_ROLES),
)

# What someone who has not joined sees in the menu.
GUEST_COMMANDS: tuple[Command, ...] = (
    Command("start", "Tham gia bằng mã mời", ALL_ROLES),
    Command("trogiup", "Hướng dẫn", ALL_ROLES),
)


def commands_for(role: str) -> list[Command]:
    """The commands this role may use, in menu order."""
    return [c for c in COMMANDS if role in c.roles]
