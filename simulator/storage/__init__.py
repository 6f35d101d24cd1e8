"""The bit-exact storage of compressed models: the pjsim file format and the storage accountant.

``pack(model, record, path)`` writes the Deep Compression format (relative-index sparse streams with
filler zeros, per-layer codebooks, Huffman tables and streams) with a header, version and checksum;
``unpack(path)`` reads it back into a state dict; ``storage_report`` splits the bits per layer and
part for each stage (dense, pruned, quantized, Huffman). The final stage's per-tensor bits are
``TensorEncoding.stored_bits`` of the packed record, and a file holds ``header_bytes`` plus those bits
rounded up to a byte.
"""

from simulator.storage.accountant import CONVENTIONS, STAGES, StorageReport, storage_report
from simulator.storage.format import (
    FORMAT_VERSION,
    MAGIC,
    MAX_FILE_BYTES,
    PackResult,
    StorageFormatError,
    encode_state,
    header_bytes,
    pack,
)
from simulator.storage.reader import read_header, read_record, unpack

__all__ = [
    "CONVENTIONS",
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_FILE_BYTES",
    "STAGES",
    "PackResult",
    "StorageFormatError",
    "StorageReport",
    "encode_state",
    "header_bytes",
    "pack",
    "read_header",
    "read_record",
    "storage_report",
    "unpack",
]
