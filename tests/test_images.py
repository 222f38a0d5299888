"""Pictures a news site needs: lead and body images resized into responsive variants, crops for
search engines and social cards, thumbnails in listings, all cached, and bad pictures refused
naming the article. Every picture here is made by the test with Pillow."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from conftest import article, counts, messages, run_cli, write_files
from linkcheck import crawl


def jpeg(width: int = 2000, height: int = 1400, colour=(200, 40, 40), exif: bytes | None = None) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 97):  # some detail, so sizes differ between widths
        image.paste((x % 255, 90, 160), (x, 0, x + 20, height))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80, **({"exif": exif} if exif else {}))
    return buffer.getvalue()


def png(width: int = 900, height: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 200, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)}  # GPS
    return exif.tobytes()


LEAD = ('{src: talks.jpg, alt: "Negotiators at the table", caption: "The fifth round opens.", '
        'credit: "Photo: A. Photographer"}')


def site_files(**extra) -> dict:
    return {
        "content/2025/a.md": article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]",
                                     author="A. Writer", story="Talks", image=LEAD,
                                     body="Before.\n\n![A chart of the talks](chart.png)\n\nAfter."),
        "content/2025/talks.jpg": jpeg(exif=gps_exif()),
        "content/2025/chart.png": png(),
        "content/2025/b.md": article("Beta talks", "2025-06-14", countries="[Japan]", topics="[Trade]",
                                     author="A. Writer", story="Talks",
                                     image='{src: "https://example.org/photo.jpg", alt: "Remote"}'),
        "content/2025/c.md": article("Gamma talks", "2025-06-15", image='{src: /images/small.jpg, alt: "Small"}'),
        "static/images/small.jpg": jpeg(800, 600, (20, 160, 60)),
        **extra,
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = write_files(tmp_path_factory.mktemp("images") / "site", site_files())
    result = run_cli("build", "--no-search", "--site", str(site), "--base-url", "https://news.example.org/",
                     check=True)
    return site, result


def test_a_lead_image_becomes_a_responsive_picture_with_its_caption_and_credit(built):
    site, _ = built
    page = (site / "output/2025/06/a/index.html").read_text()
    figure = page[page.index('<figure class="lead-image">'):page.index("</figure>")]
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)">', figure)
    assert webp and webp[2] == "(min-width: 64rem) 42rem, 100vw"
    widths = [int(w) for w in re.findall(r" (\d+)w", webp[1])]
    assert widths == [320, 640, 960, 1280, 1920]  # [images] widths, all narrower than the 2000 px picture
    img = re.search(r"<img ([^>]+)>", figure)[1]
    assert 'width="1920" height="1344"' in img and 'alt="Negotiators at the table"' in img
    assert 'loading="eager" fetchpriority="high"' in img and 'decoding="async"' in img
    assert re.search(r'srcset="[^"]*-320\.jpg 320w', img)
    assert "<figcaption><span>The fifth round opens.</span> <span class=\"credit\">Photo: A. Photographer</span>" in figure
    for url in re.findall(r"(/images/[^ \"]+)", figure):
        assert (site / "output" / url.lstrip("/")).is_file(), url


def test_pictures_are_never_made_wider_than_they_are(built):
    site, _ = built
    page = (site / "output/2025/06/c/index.html").read_text()  # the 800 px picture under static/
    srcset = re.search(r'<source type="image/webp" srcset="([^"]+)"', page)[1]
    assert [int(w) for w in re.findall(r" (\d+)w", srcset)] == [320, 640, 800]


def test_crops_for_search_engines_and_social_cards(built):
    site, result = built
    page = (site / "output/2025/06/a/index.html").read_text()
    data = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    crops = data["image"]
    assert [re.search(r"-(16x9|4x3|1x1)-(\d+)\.jpg$", url).groups() for url in crops] == [
        ("16x9", "1200"), ("4x3", "1200"), ("1x1", "1200")]
    assert all(url.startswith("https://news.example.org/images/") for url in crops)
    for url, ratio in zip(crops, (16 / 9, 4 / 3, 1.0)):
        with Image.open(site / "output" / url.split("news.example.org/")[1]) as crop:
            assert crop.width == 1200 and abs(crop.width / crop.height - ratio) < 0.01
    assert f'<meta property="og:image" content="{crops[0]}">' in page
    assert '<meta property="og:image:width" content="1200">' in page
    assert '<meta property="og:image:height" content="675">' in page
    assert '<meta name="robots" content="max-image-preview:large">' in page
    # The 800 px picture cannot give 1,200 px crops: a warning names its article.
    assert ("note: content/2025/c.md: the lead image static/images/small.jpg makes crops only 600 px wide "
            "(search engines ask for 1200): use a larger picture") in result.stderr


def test_a_body_picture_is_processed_the_same_way_and_loads_lazily(built):
    site, _ = built
    page = (site / "output/2025/06/a/index.html").read_text()
    body = page[page.index('<div class="article-body">'):]
    picture = re.search(r'<picture class="body-picture">.*?</picture>', body)[0]
    assert 'alt="A chart of the talks"' in picture and 'loading="lazy"' in picture
    assert 'width="900" height="600"' in picture and ".png 900w" in picture  # a PNG stays PNG
    assert "data-builder-image" not in page


def test_remote_images_are_left_as_they_are(built):
    site, _ = built
    page = (site / "output/2025/06/b/index.html").read_text()
    assert '<img src="https://example.org/photo.jpg" alt="Remote">' in page


def test_listings_show_thumbnails_with_their_size(built):
    site, _ = built
    out = site / "output"
    for listing in ("index.html", "countries/japan/index.html", "topics/trade/index.html",
                    "authors/a-writer/index.html", "2025/06/index.html"):
        html = (out / listing).read_text()
        thumb = re.search(r'<img class="story-thumb" src="([^"]+)" srcset="[^"]+" sizes="[^"]+" '
                          r'width="480" height="360" alt="" (loading="lazy"|loading="eager" fetchpriority="high") '
                          r'decoding="async">', html)
        assert thumb, listing
        assert (out / thumb[1].lstrip("/")).is_file()
        # Only the home page's lead story is fetched at once (the page's largest paint); the rest wait.
        stories = re.findall(r'<li class="story[^"]*">(.*?)</li>', html, re.S)
        eager = [n for n, story in enumerate(stories) if 'fetchpriority="high"' in story]
        assert eager == ([0] if listing == "index.html" and "story-thumb" in stories[0] else []), listing


def test_no_metadata_reaches_the_outputs(built):
    site, _ = built
    variants = list((site / "output/images").rglob("*.jpg")) + list((site / "output/images").rglob("*.webp"))
    assert len(variants) > 10
    for path in variants:
        with Image.open(path) as image:
            assert not image.getexif(), path
            assert b"CameraMaker" not in path.read_bytes()


def test_every_src_and_srcset_resolves(built):
    site, _ = built
    report = crawl(site / "output", "https://news.example.org/")
    assert report.broken == [] and report.pages > 10


def test_a_rebuild_processes_nothing_and_a_changed_picture_only_itself(make_site):
    site = make_site(site_files())
    run_cli("build", "--no-search", "--site", str(site), check=True)
    again = run_cli("build", "--no-search", "--site", str(site), check=True)
    assert counts(again.stdout)["written"] == 0
    before = {p.relative_to(site / "output") for p in (site / "output/images").rglob("*") if p.is_file()}
    (site / "content/2025/chart.png").write_bytes(png(700, 500))
    changed = run_cli("build", "--no-search", "--site", str(site), check=True)
    after = {p.relative_to(site / "output") for p in (site / "output/images").rglob("*") if p.is_file()}
    made, gone = after - before, before - after
    assert made and all("chart" in str(p) for p in made)  # only the changed picture's files
    assert gone and all("chart" in str(p) for p in gone)  # its old variants were removed
    assert counts(changed.stdout)["rendered"] >= 1
    # The output deleted, the cache kept: the files come back from the cache, nothing is made again.
    import shutil
    shutil.rmtree(site / "output")
    restored = run_cli("build", "-v", "--no-search", "--site", str(site), check=True)
    assert {p.relative_to(site / "output") for p in (site / "output/images").rglob("*") if p.is_file()} == after
    assert counts(restored.stdout)["written"] > len(after)


def test_the_focus_moves_the_crops(make_site):
    site = make_site({"content/a.md": article("A", image='{src: p.jpg, alt: "P", focus: {x: 0, y: 0}}'),
                      "content/p.jpg": jpeg(3000, 1500)})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    [square] = (site / "output/images").rglob("*-1x1-*.jpg")
    with Image.open(square) as image:
        left = image.getpixel((5, image.height // 2))
    with Image.open(site / "content/p.jpg") as original:
        assert abs(left[0] - original.getpixel((3, 750))[0]) < 40  # the crop starts at the left edge


BAD = {
    "missing": ({}, "content/2025/m.md:4: image content/2025/nothing.jpg: no such picture file", "nothing.jpg"),
    "not a picture": ({"content/2025/fake.jpg": b"this is text, not a JPEG"},
                      "content/2025/m.md:4: image content/2025/fake.jpg: not a picture Pillow can read "
                      "(JPEG, PNG, WebP or GIF)", "fake.jpg"),
    "truncated": ({"content/2025/cut.jpg": jpeg()[:3000]},
                  "content/2025/m.md:4: image content/2025/cut.jpg: the picture is damaged or truncated", "cut.jpg"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_picture_is_an_error_naming_the_article_and_line(make_site, name):
    files, message, src = BAD[name]
    site = make_site({"content/2025/m.md": article("M", image=f'{{src: {src}, alt: "M"}}'), **files})
    result = run_cli("build", "--no-search", "--site", str(site))
    assert result.returncode == 1
    assert any(line.startswith(message) for line in messages(result.stderr)), result.stderr


def test_a_decompression_bomb_is_refused_before_it_is_decoded(make_site):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 10_000)).save(bomb, format="PNG")  # 120 million pixels in a small file
    site = make_site({"content/m.md": article("M", image='{src: bomb.png, alt: "B"}'),
                      "content/bomb.png": bomb.getvalue()})
    result = run_cli("build", "--no-search", "--site", str(site))
    assert result.returncode == 1
    assert ("content/m.md:4: image content/bomb.png: the picture is 12000×10000 pixels: too large to process "
            "(a decompression bomb?)") in messages(result.stderr)


def test_a_local_picture_needs_alt_text(make_site):
    site = make_site({"content/m.md": article("M", image="{src: p.jpg}", body="Text.\n\n![](q.jpg)"),
                      "content/p.jpg": jpeg(400, 300), "content/q.jpg": jpeg(400, 300)})
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1
    lines = messages(result.stderr)
    assert "content/m.md:4: 'image' needs 'alt' text describing the picture (alt: \"\" for a decorative one)" in lines
    decorative = make_site({"content/m.md": article("M", image='{src: p.jpg, alt: ""}'),
                            "content/p.jpg": jpeg(400, 300)}, name="decorative")
    assert run_cli("check", "--site", str(decorative)).returncode == 0


def test_pictures_build_the_same_bytes_with_any_number_of_jobs(make_site, tmp_path):
    site = make_site(site_files())
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        run_cli("build", "--no-search", "--no-cache", "--jobs", jobs, "--site", str(site), "--out", str(out),
                check=True)
        outputs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]


def test_a_root_relative_body_picture_is_found_under_static_on_a_project_subpath(tmp_path):
    # '/images/small.jpg' names static/images/small.jpg whatever the base path: the link to
    # it moves under the subpath, the file it is looked up in does not.
    files = site_files()
    files["content/2025/c.md"] = article("Gamma talks", "2025-06-15", body="![A small picture](/images/small.jpg)")
    site = write_files(tmp_path / "site", files)
    run_cli("build", "--no-search", "--site", str(site), "--base-url", "https://example.org/proj/", check=True)
    page = (site / "output/2025/06/c/index.html").read_text()
    picture = re.search(r'<picture class="body-picture">.*?</picture>', page)[0]
    assert 'alt="A small picture"' in picture and "data-builder-image" not in page
    urls = re.findall(r'(/proj/images/[^ "]+)', picture)
    assert urls and all((site / "output" / url.removeprefix("/proj/")).is_file() for url in urls)
