"""Process settings, from the environment (prefix CXJF_) or a `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.campaign import Campaign, CampaignError, load_campaign
from domain.catalog import Catalog
from domain.fields import build_catalog

PROJECT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CXJF_", env_file=".env", extra="ignore")

    campaigns_dir: Path = PROJECT / "campaigns"
    campaign: int | None = None  # the campaign year; default: the newest file in campaigns_dir

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
