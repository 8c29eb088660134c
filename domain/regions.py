"""The province's administrative divisions (GB/T 2260): cities and county-level units.

A county-level code decides which county and city bureaus review an enterprise, so the
table is validated as strictly as the campaign file that points at it.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, model_validator

CODE_PATTERN = r"^\d{6}$"


class County(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    city_code: str
    city_name: str

    @property
    def full_name(self) -> str:
        return f"{self.city_name}{self.name}"


class City(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    counties: tuple[tuple[str, str], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _counties_inside(self) -> City:
        for code, _ in self.counties:
            if len(code) != 6 or not code.isdigit() or code[:4] != self.code[:4]:
                raise ValueError(f"county {code} is not inside city {self.code}")
            if code == self.code:
                raise ValueError(f"county {code} repeats its city's code")
        return self


class Desk(BaseModel):
    """Whom an enterprise calls at its bureau about the form: shown in /help when set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    phone: str = Field(min_length=3)


class RegionTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name: str
    cities: tuple[City, ...] = Field(min_length=1)
    contacts: dict[str, Desk] = Field(default_factory=dict)  # by county (or city) code

    @model_validator(mode="after")
    def _unique_and_inside(self) -> RegionTable:
        seen: set[str] = set()
        for city in self.cities:
            if city.code[:2] != self.code[:2]:
                raise ValueError(f"city {city.code} is not inside {self.code}")
            for code in (city.code, *(c for c, _ in city.counties)):
                if code in seen:
                    raise ValueError(f"code {code} appears twice")
                seen.add(code)
        for code in self.contacts:
            if code not in seen:
                raise ValueError(f"contacts: {code} is not a city or county of the table")
        return self

    def desk(self, county_code: str) -> Desk | None:
        """The county bureau's contact, or else its city's."""
        if county_code in self.contacts:
            return self.contacts[county_code]
        county = self.counties.get(county_code)
        return self.contacts.get(county.city_code) if county else None

    @cached_property
    def counties(self) -> dict[str, County]:
        """County-level units by code, in table order."""
        return {
            code: County(code=code, name=name, city_code=city.code, city_name=city.name)
            for city in self.cities
            for code, name in city.counties
        }

    @cached_property
    def cities_by_code(self) -> dict[str, City]:
        return {city.code: city for city in self.cities}

    def city_of(self, county_code: str) -> City:
        return self.cities_by_code[self.counties[county_code].city_code]

    def find_counties(self, text: str) -> list[County]:
        """Counties the text names: 甘井子区, 大连市甘井子区, 大连甘井子区, 大连甘井子, 甘井子."""
        text = text.removeprefix(self.name)
        exact = [c for c in self.counties.values() if text in _forms(c)]
        if exact or len(text) < 2:
            return exact
        return [c for c in self.counties.values() if c.full_name.startswith(text)]


def _forms(county: County) -> set[str]:
    city, name = _short(county.city_name), _short(county.name)
    return {county.name, county.full_name, name, city + county.name, city + name}


def _short(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "市区县" else name
