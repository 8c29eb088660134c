"""Process settings, from the environment or a `.env` file.

The names people set on a server are the issue's: DATABASE_URL, BOT_TOKEN, BOT_API_BASE;
campaign settings carry the CXJF_ prefix.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.campaign import Campaign, CampaignError, load_campaign
from domain.catalog import Catalog
from domain.fields import build_catalog

PROJECT = Path(__file__).resolve().parent
DEFAULT_DATABASE = f"sqlite+aiosqlite:///{PROJECT / 'data' / 'cxjf.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CXJF_", env_file=".env", extra="ignore")

    campaigns_dir: Path = PROJECT / "campaigns"
    campaign: int | None = None  # the campaign year; default: the newest file in campaigns_dir
    database_url: str = Field(
        DEFAULT_DATABASE, validation_alias=AliasChoices("DATABASE_URL", "CXJF_DATABASE_URL")
    )
    bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("BOT_TOKEN", "CXJF_BOT_TOKEN")
    )
    bot_api_base: str | None = Field(
        None, validation_alias=AliasChoices("BOT_API_BASE", "CXJF_BOT_API_BASE")
    )
    bot_username: str = Field(
        "", validation_alias=AliasChoices("BOT_USERNAME", "CXJF_BOT_USERNAME")
    )  # for the invitation links the command line prints
    admin_ids: set[int] = Field(
        default_factory=set, validation_alias=AliasChoices("ADMIN_IDS", "CXJF_ADMIN_IDS")
    )  # Telegram user ids, as JSON: ADMIN_IDS=[123, 456]
    today: date | None = None  # CXJF_TODAY: the calendar day the process starts on (trials)
    private_alerts: bool = True  # review cards to officials' private chats as well as groups
    # Several instances: conversation state in Redis; `run --webhook` behind a load balancer.
    redis_url: str | None = Field(
        None, validation_alias=AliasChoices("REDIS_URL", "CXJF_REDIS_URL")
    )
    webhook_url: str | None = Field(
        None, validation_alias=AliasChoices("WEBHOOK_URL", "CXJF_WEBHOOK_URL")
    )  # the public https:// address Telegram posts to (without the path)
    webhook_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("WEBHOOK_SECRET", "CXJF_WEBHOOK_SECRET")
    )
    webhook_path: str = "/telegram"

    def campaign_path(self, year: int | None = None) -> Path:
        year = year or self.campaign
        if year is not None:
            return self.campaigns_dir / f"{year}.toml"
        years = sorted(p.stem for p in self.campaigns_dir.glob("*.toml") if p.stem.isdigit())
        if not years:
            raise CampaignError(f"{self.campaigns_dir}: no campaign file (<year>.toml)")
        return self.campaigns_dir / f"{years[-1]}.toml"

    def load_campaign(self, year: int | None = None) -> Campaign:
        return load_campaign(self.campaign_path(year))

    def catalog(self, year: int | None = None) -> Catalog:
        return build_catalog(self.load_campaign(year))
