"""The contract the ingest side builds on."""

import dataclasses

from broadsheet.wire.parsers import MemberRef, Rendition, WireItem, WirePicture


def test_the_best_rendition_is_the_largest_image():
    picture = WirePicture(
        renditions=[
            Rendition("https://m.example/th.jpg", "image/jpeg", 150, 100),
            Rendition("https://m.example/hi.jpg", "image/jpeg", 3000, 2000),
            Rendition("https://m.example/clip.mp4", "video/mp4", 3840, 2160),
        ]
    )
    assert picture.best_rendition().href == "https://m.example/hi.jpg"


def test_without_a_typed_image_any_rendition_with_an_address_will_do():
    picture = WirePicture(renditions=[Rendition(""), Rendition("https://m.example/x", size=10)])
    assert picture.best_rendition().href == "https://m.example/x"
    assert WirePicture().best_rendition() is None


def test_text_direction_is_not_the_parsers_business():
    # The news app decides it from the language code, in one place.
    assert not hasattr(WireItem(format="ninjs-1", guid="x", language="ar"), "right_to_left")


def test_a_package_member_says_its_role_and_what_it_is():
    fields = [field.name for field in dataclasses.fields(MemberRef)]
    assert fields == ["guid", "version", "role", "item_class"]
