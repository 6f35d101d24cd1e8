"""The bit-exact storage of compressed models: the pjsim file format and the storage accountant.

``pack(model, record, path)`` writes the Deep Compression format (relative-index sparse streams with
filler zeros, per-layer codebooks, Huffman tables and streams) with a header, version and checksum;
``unpack(path)`` reads it back into a state dict; ``storage_report`` splits the bits per layer and
part for each stage (dense, pruned, quantized, Huffman).
"""

from simulator.storage.accountant import CONVENTIONS, STAGES, StorageReport, storage_report
from simulator.storage.format import (
    FORMAT_VERSION,
    MAGIC,
    PackResult,
    StorageFormatError,
    encode_state,
    pack,
    read_header,
    read_record,
    unpack,
)

__all__ = [
    "CONVENTIONS",
    "FORMAT_VERSION",
    "MAGIC",
    "STAGES",
    "PackResult",
    "StorageFormatError",
    "StorageReport",
    "encode_state",
    "pack",
    "read_header",
    "read_record",
    "storage_report",
    "unpack",
]
