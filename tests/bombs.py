"""Build hostile spreadsheets for the tests: small files that ask for gigabytes when parsed.

A deflate stream flushed with Z_FULL_FLUSH depends on nothing before it, so one compressed block of
XML repeated n times is a valid stream of the XML repeated n times: a few megabytes that inflate
to gigabytes, built in milliseconds.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
    'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
HEADER_ROW = (
    '<row><c t="inlineStr"><is><t>公民身份号码</t></is></c><c t="inlineStr"><is><t>姓名</t>'
    '</is></c><c t="inlineStr"><is><t>性别</t></is></c></row>'
).encode()


class Repeated:
    """A zip member whose content is `head`, then `body` repeated `times`, then `tail`."""

    def __init__(self, head: bytes, body: bytes, times: int, tail: bytes) -> None:
        """Compress the parts once; the body's block is repeated in the stream."""
        self.size = len(head) + len(body) * times + len(tail)
        crc = zlib.crc32(head)
        for _ in range(times):
            crc = zlib.crc32(body, crc)
        self.crc = zlib.crc32(tail, crc)
        first = zlib.compressobj(9, zlib.DEFLATED, -15)
        start = first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)
        block = zlib.compressobj(9, zlib.DEFLATED, -15)
        middle = block.compress(body) + block.flush(zlib.Z_FULL_FLUSH)
        last = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.data = start + middle * times + last.compress(tail) + last.flush()


def zip_file(members: dict[str, str | bytes | Repeated]) -> bytes:
    """Return a zip of the members: text and bytes deflated as usual, `Repeated` ones as built."""
    out, directory = bytearray(), bytearray()
    for name, content in members.items():
        if isinstance(content, Repeated):
            data, crc, size = content.data, content.crc, content.size
        else:
            raw = content.encode() if isinstance(content, str) else content
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            data, crc, size = packer.compress(raw) + packer.flush(), zlib.crc32(raw), len(raw)
        encoded = name.encode()
        offset = len(out)
        out += (
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0, crc, len(data), size, len(encoded), 0)
            + encoded
            + data
        )
        directory += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0x800,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(out), 0)
    return bytes(out + directory + end)


def xlsx(sheet: bytes | Repeated, shared_strings: bytes | Repeated | None = None) -> bytes:
    """Return an .xlsx of one sheet (the worksheet part as given), with shared strings if given."""
    members: dict[str, str | bytes | Repeated] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared_strings is not None:
        members["xl/sharedStrings.xml"] = shared_strings
    return zip_file(members)


def cell_bomb(megabytes: int) -> bytes:
    """Return an .xlsx whose one sheet inflates to `megabytes` MB of person rows (16 bytes a cell)."""
    cells = b'<c t="inlineStr"><is><t>50011819900101</t></is></c>' + b"<c><v>1</v></c>" * 60
    row = b"<row>" + cells + b"</row>"
    block = row * (1024 * 1024 // len(row))  # a megabyte: one compressed block of it, repeated
    return xlsx(Repeated(SHEET_HEAD + HEADER_ROW, block, megabytes, SHEET_TAIL))


def corner_bomb() -> bytes:
    """Return a 1.5 KB .xlsx with two cells, at A1 and XFD1048576: a grid of 17 billion cells."""
    return xlsx(
        SHEET_HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576">'
        b"<v>1</v></c></row>" + SHEET_TAIL
    )


def strings_bomb(count: int) -> bytes:
    """Return an .xlsx whose shared strings part lists `count` strings."""
    strings = Repeated(
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main">',
        b"<si><t>x</t></si>" * 1000,
        count // 1000,
        b"</sst>",
    )
    return xlsx(SHEET_HEAD + b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + SHEET_TAIL, strings)


def ods(content: bytes | Repeated) -> bytes:
    """Return an .ods whose content part is as given."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:'
        'full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return zip_file(
        {
            "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
            "META-INF/manifest.xml": manifest,
            "content.xml": content,
        }
    )


def ods_table(rows: str) -> bytes:
    """Return an .ods content part holding one table of the given rows."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
        'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="人员">{rows}</table:table></office:spreadsheet>'
        "</office:body></office:document-content>"
    ).encode()


def xls_corners(sheets: int = 3) -> bytes:
    """Return a 6 KB .xls whose sheets each hold cells at A1 and IV65536 (calamine loads them all)."""
    import io

    import xlwt

    book = xlwt.Workbook()
    for n in range(sheets):
        sheet = book.add_sheet(f"表{n + 1}")
        sheet.write(0, 0, "公民身份号码")
        sheet.write(65535, 255, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def is_zip(data: bytes) -> bool:
    """Tell whether the bytes open as a zip (a sanity check of the builders)."""
    import io

    try:
        zipfile.ZipFile(io.BytesIO(data)).testzip()
    except zipfile.BadZipFile:
        return False
    return True
