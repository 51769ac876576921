"""SMS segment counting against the GSM 03.38 table: which characters are GSM-7, what the extension table
costs, where a long text splits, and when the whole text falls back to UCS-2."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accueil.channels.sms.segments import GSM7, GSM7_BASIC, GSM7_EXTENSION, UCS2, count, is_gsm7


def test_the_table_has_the_127_characters_of_the_default_alphabet_and_10_escaped_ones():
    assert len(GSM7_BASIC) == 127 and len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("ch", list("éèùìòàÉÇÄÖÑÜäöñüÅåØøÆæß£¥§¤¿¡ΔΦΓΛΩΠΨΣΘΞ@$_"))
def test_french_and_other_characters_of_the_basic_set_are_gsm7(ch):
    assert is_gsm7(ch) and count(ch).units == 1


@pytest.mark.parametrize("ch", list("êâîôûëïçœŒÀÈÊÎÔÛÙÂ«»’“”…–—°"))
def test_characters_outside_the_table_force_ucs2(ch):
    # ç is not GSM-7 (0x09 is the capital Ç), nor the circumflexes, œ, typographic quotes and dashes
    assert not is_gsm7(ch)
    result = count("Bonjour " + ch)
    assert result.encoding == UCS2 and result.non_gsm == (ch,)


@pytest.mark.parametrize("ch", list("€[]{}\\^~|\f"))
def test_the_extension_table_costs_two_septets(ch):
    result = count(ch)
    assert result.encoding == GSM7 and result.units == 2 and result.remaining == 158


def test_one_sms_holds_160_septets_then_parts_of_153():
    assert count("").segments == 0 and count("").remaining == 160
    assert (count("a" * 160).segments, count("a" * 160).remaining) == (1, 0)
    assert (count("a" * 161).segments, count("a" * 161).remaining) == (2, 153 * 2 - 161)
    assert count("a" * 306).segments == 2 and count("a" * 307).segments == 3
    assert count("€" * 80).segments == 1 and count("€" * 80).units == 160
    assert count("€" * 81).segments == 2


def test_an_escaped_character_is_never_split_across_two_parts():
    # 152 septets then "€": the escape would fall on 153 and its character on the next part
    text = "a" * 152 + "€" + "a" * 10
    result = count(text)
    assert result.units == 164 and result.segments == 2
    assert result.remaining == 153 - (2 + 10)  # the € moved whole to the second part


def test_ucs2_holds_70_units_then_parts_of_67():
    assert (count("ê" * 70).segments, count("ê" * 70).remaining) == (1, 0)
    assert count("ê" * 71).segments == 2 and count("ê" * 134).segments == 2 and count("ê" * 135).segments == 3
    # one ê is enough: the whole text is UCS-2, so 100 plain letters and an ê are two parts, not one
    assert count("a" * 100 + "ê").segments == 2


def test_emoji_are_ucs2_and_count_as_two_utf16_units():
    result = count("Merci 🙂")
    assert result.encoding == UCS2 and result.units == 8 and result.remaining == 62
    assert count("🙂" * 35).segments == 1 and count("🙂" * 36).segments == 2
    # a surrogate pair is not split: 66 units then an emoji starts the second part
    result = count("ê" * 66 + "🙂")
    assert result.units == 68 and result.segments == 1  # 68 <= 70: still one SMS
    result = count("ê" * 66 + "🙂" + "ê" * 3)
    assert result.units == 71 and result.segments == 2 and result.remaining == 67 - 5


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=1000))
def test_plain_gsm7_text_follows_the_textbook_formula(text):
    result = count(text)
    assert result.encoding == GSM7 and result.units == len(text)
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert result.segments == expected


@given(st.text(max_size=400))
def test_any_text_fits_in_its_parts(text):
    result = count(text)
    single, part = (160, 153) if result.encoding == GSM7 else (70, 67)
    assert result.units <= (single if result.segments <= 1 else result.segments * part)
    assert 0 <= result.remaining <= single
    assert (result.encoding == GSM7) == is_gsm7(text)
