package com.scratchgpt.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The zip archive torch.save writes (PyTorch's format since 1.6): {@code <archive>/data.pkl}, the pickled
 * object; {@code <archive>/data/<key>}, one raw little-endian storage per key; {@code <archive>/version} and
 * sometimes {@code <archive>/byteorder}. The archive folder is named after the file, or {@code archive}.
 * Entries are stored uncompressed (torch pads each to 64 bytes), so a storage is read straight from the file.
 * Sizes come from the central directory (torch writes zeros and a data descriptor in the local headers);
 * every count, offset and size is checked against the file before anything is allocated. Zip64 is read:
 * a GPT-2 XL checkpoint is 6.4 GB.
 */
final class PthArchive {

    /** data.pkl of GPT-2 XL with its AdamW state is about 300 kB; larger ones are refused unread. */
    static final int MAX_PICKLE_BYTES = 32 << 20;

    /** A central directory of 2.5 thousand entries (GPT-2 XL with AdamW) takes 200 kB. */
    static final int MAX_DIRECTORY_BYTES = 4 << 20;

    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_DIRECTORY = 0x06054b50;
    private static final int ZIP64_END_OF_DIRECTORY = 0x06064b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int END_LENGTH = 22;
    private static final int CENTRAL_LENGTH = 46;
    private static final int LOCAL_LENGTH = 30;
    private static final long MAX_COMMENT = 0xFFFF;

    /** One stored entry: where its bytes start in the file, how many, and their CRC-32. */
    record Member(String name, long dataOffset, long size, int crc) {
    }

    private final WeightsChannel channel;
    private final String prefix;
    private final Map<String, Member> members;

    private PthArchive(WeightsChannel channel, String prefix, Map<String, Member> members) {
        this.channel = channel;
        this.prefix = prefix;
        this.members = members;
    }

    static PthArchive read(WeightsChannel channel) {
        Path path = channel.path();
        long size = channel.size();
        if (size >= 2) {
            ByteBuffer start = channel.read(0, 2);
            if ((start.get(0) & 0xFF) == 0x80 && start.get(1) >= 2 && start.get(1) <= 5) {
                throw new CheckpointException(path, null, "a pickle, not a zip archive: the torch.save format of "
                        + "PyTorch before 1.6 (or _use_new_zipfile_serialization=False); save it again with torch.save");
            }
        }
        if (size < 4 || channel.read(0, 4).getInt(0) != LOCAL_HEADER) {
            throw new CheckpointException(path, null, "not a zip archive (torch.save writes one since PyTorch 1.6): "
                    + (size < 4 ? size + " bytes" : "no local file header at byte 0"));
        }
        Directory dir = directory(channel);
        List<Member> list = members(channel, dir);
        Map<String, Member> byName = new HashMap<>();
        String prefix = null;
        for (Member m : list) {
            int slash = m.name().indexOf('/');
            if (slash > 0 && m.name().substring(slash).equals("/data.pkl")) {
                if (prefix != null) {
                    throw new CheckpointException(path, null, "two pickles, '" + prefix + "/data.pkl' and '"
                            + m.name() + "': which one is the checkpoint?");
                }
                prefix = m.name().substring(0, slash);
            }
            byName.put(m.name(), m);
        }
        if (prefix == null) {
            throw new CheckpointException(path, null, "no <archive>/data.pkl in the zip archive: not a torch.save checkpoint");
        }
        PthArchive archive = new PthArchive(channel, prefix, byName);
        archive.checkByteOrder();
        return archive;
    }

    /** The member at {@code <archive>/<name>}, or null. */
    Member member(String name) {
        return members.get(prefix + "/" + name);
    }

    /** The pickle, read whole and checked against its CRC-32. */
    byte[] pickle() {
        Member m = member("data.pkl");
        if (m.size() > MAX_PICKLE_BYTES) {
            throw new CheckpointException(channel.path(), null, "'" + m.name() + "' of " + m.size()
                    + " bytes exceeds the limit of " + MAX_PICKLE_BYTES + " bytes");
        }
        return readChecked(m);
    }

    /** The storage of an entry, mapped until the region is closed, its CRC-32 checked when {@code check}. */
    WeightsChannel.Region map(Member m, String tensor, boolean check) {
        WeightsChannel.Region region = channel.map(tensor, m.dataOffset(), m.size());
        if (check) {
            CRC32 crc = new CRC32();
            crc.update(region.bytes());
            if ((int) crc.getValue() != m.crc()) {
                region.close();
                throw new CheckpointException(channel.path(), tensor, "its storage '" + m.name()
                        + "' fails its CRC-32 check: the file is corrupt");
            }
        }
        return region;
    }

    /** torch writes "little" (or nothing, before PyTorch 2.1); a big-endian machine's storages would need swapping. */
    private void checkByteOrder() {
        Member m = member("byteorder");
        if (m == null) {
            return;
        }
        if (m.size() > 16) {
            throw new CheckpointException(channel.path(), null, "'" + m.name() + "' of " + m.size() + " bytes is not "
                    + "\"little\" or \"big\"");
        }
        String order = new String(readChecked(m), StandardCharsets.US_ASCII).strip();
        if (!order.equals("little")) {
            throw new CheckpointException(channel.path(), null, "byte order '" + order + "' (" + m.name()
                    + "): only little-endian checkpoints load");
        }
    }

    private byte[] readChecked(Member m) {
        byte[] bytes = channel.read(m.dataOffset(), (int) m.size()).array();
        CRC32 crc = new CRC32();
        crc.update(bytes);
        if ((int) crc.getValue() != m.crc()) {
            throw new CheckpointException(channel.path(), null, "'" + m.name() + "' fails its CRC-32 check: the file is corrupt");
        }
        return bytes;
    }

    /** Where the central directory lies and how many entries it holds. */
    private record Directory(long offset, long size, long entries) {
    }

    private static Directory directory(WeightsChannel channel) {
        Path path = channel.path();
        long size = channel.size();
        int tailLength = (int) Math.min(size, END_LENGTH + MAX_COMMENT + 20);
        long tailStart = size - tailLength;
        ByteBuffer tail = channel.read(tailStart, tailLength);
        // the end record is the last 22 bytes plus a comment of at most 64 kB; its comment length must reach the end
        int end = -1;
        for (int at = tailLength - END_LENGTH; at >= 0; at--) {
            if (tail.getInt(at) == END_OF_DIRECTORY && at + END_LENGTH + u16(tail, at + 20) == tailLength) {
                end = at;
                break;
            }
        }
        if (end < 0) {
            throw new CheckpointException(path, null, "no end of central directory record: the zip archive is truncated "
                    + "or is not one");
        }
        long endPosition = tailStart + end;
        int disk = u16(tail, end + 4);
        int directoryDisk = u16(tail, end + 6);
        long onDisk = u16(tail, end + 8);
        long entries = u16(tail, end + 10);
        long directorySize = u32(tail, end + 12);
        long directoryOffset = u32(tail, end + 16);
        long directoryEnd = endPosition;
        if (end >= 20 && tail.getInt(end - 20) == ZIP64_LOCATOR) {
            long recordPosition = tail.getLong(end - 12);
            if (recordPosition < 0 || recordPosition > endPosition - 20 - 56) {
                throw new CheckpointException(path, null, "zip64 end of central directory record at byte "
                        + Long.toUnsignedString(recordPosition) + " lies outside the file of " + size + " bytes");
            }
            ByteBuffer record = channel.read(recordPosition, 56);
            if (record.getInt(0) != ZIP64_END_OF_DIRECTORY) {
                throw new CheckpointException(path, null, "no zip64 end of central directory record at byte " + recordPosition);
            }
            disk = record.getInt(16);
            directoryDisk = record.getInt(20);
            onDisk = record.getLong(24);
            entries = record.getLong(32);
            directorySize = record.getLong(40);
            directoryOffset = record.getLong(48);
            directoryEnd = recordPosition;
        } else if (entries == 0xFFFF || directorySize == 0xFFFFFFFFL || directoryOffset == 0xFFFFFFFFL) {
            throw new CheckpointException(path, null, "the end of central directory record calls for zip64, "
                    + "but the zip64 locator is missing");
        }
        if (disk != 0 || directoryDisk != 0 || onDisk != entries) {
            throw new CheckpointException(path, null, "a zip archive split over several disks");
        }
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > directoryEnd
                || directorySize != directoryEnd - directoryOffset) {
            throw new CheckpointException(path, null, "central directory of " + Long.toUnsignedString(directorySize)
                    + " bytes at byte " + Long.toUnsignedString(directoryOffset) + " does not end where its end record "
                    + "begins (byte " + directoryEnd + ")");
        }
        if (directorySize > MAX_DIRECTORY_BYTES) {
            throw new CheckpointException(path, null, "central directory of " + directorySize
                    + " bytes exceeds the limit of " + MAX_DIRECTORY_BYTES + " bytes");
        }
        if (entries < 0 || entries > directorySize / CENTRAL_LENGTH) {
            throw new CheckpointException(path, null, Long.toUnsignedString(entries) + " entries cannot fit in a central "
                    + "directory of " + directorySize + " bytes");
        }
        return new Directory(directoryOffset, directorySize, entries);
    }

    private static List<Member> members(WeightsChannel channel, Directory dir) {
        Path path = channel.path();
        ByteBuffer cd = channel.read(dir.offset(), (int) dir.size());
        List<Member> members = new ArrayList<>();
        Map<String, Long> localOffsets = new HashMap<>();
        int at = 0;
        for (long i = 0; i < dir.entries(); i++) {
            if (at + CENTRAL_LENGTH > cd.limit() || cd.getInt(at) != CENTRAL_HEADER) {
                throw new CheckpointException(path, null, "central directory entry " + i + " at byte "
                        + (dir.offset() + at) + " is not one");
            }
            int flags = u16(cd, at + 8);
            int method = u16(cd, at + 10);
            int crc = cd.getInt(at + 16);
            long compressed = u32(cd, at + 20);
            long stored = u32(cd, at + 24);
            int nameLength = u16(cd, at + 28);
            int extraLength = u16(cd, at + 30);
            int commentLength = u16(cd, at + 32);
            int startDisk = u16(cd, at + 34);
            long local = u32(cd, at + 42);
            int next = at + CENTRAL_LENGTH + nameLength + extraLength + commentLength;
            if (next > cd.limit()) {
                throw new CheckpointException(path, null, "central directory entry " + i + " runs past the directory");
            }
            byte[] nameBytes = new byte[nameLength];
            cd.get(at + CENTRAL_LENGTH, nameBytes);
            String name = name(path, nameBytes, i);
            // zip64: the fields that overflowed 32 bits follow in this order in extra block 1
            int extra = at + CENTRAL_LENGTH + nameLength;
            int extraEnd = extra + extraLength;
            while (extra + 4 <= extraEnd) {
                int id = u16(cd, extra);
                int length = u16(cd, extra + 2);
                int field = extra + 4;
                if (field + length > extraEnd) {
                    throw new CheckpointException(path, null, "entry '" + name + "': extra field runs past its end");
                }
                if (id == 1) {
                    int fieldEnd = field + length;
                    if (stored == 0xFFFFFFFFL) {
                        stored = zip64Field(path, name, cd, field, fieldEnd);
                        field += 8;
                    }
                    if (compressed == 0xFFFFFFFFL) {
                        compressed = zip64Field(path, name, cd, field, fieldEnd);
                        field += 8;
                    }
                    if (local == 0xFFFFFFFFL) {
                        local = zip64Field(path, name, cd, field, fieldEnd);
                        field += 8;
                    }
                    if (startDisk == 0xFFFF) {
                        startDisk = field + 4 <= fieldEnd ? cd.getInt(field) : -1;
                    }
                }
                extra += 4 + length;
            }
            if ((flags & 0x41) != 0) {
                throw new CheckpointException(path, null, "entry '" + name + "' is encrypted");
            }
            if (method != 0) {
                throw new CheckpointException(path, null, "entry '" + name + "' is compressed (zip method " + method
                        + "); torch.save stores every entry uncompressed");
            }
            if (compressed != stored) {
                throw new CheckpointException(path, null, "entry '" + name + "' is stored, yet its compressed size "
                        + Long.toUnsignedString(compressed) + " differs from its size " + Long.toUnsignedString(stored));
            }
            if (startDisk != 0) {
                throw new CheckpointException(path, null, "entry '" + name + "' lies on another disk");
            }
            if (localOffsets.put(name, local) != null) {
                throw new CheckpointException(path, null, "entry '" + name + "' appears twice in the zip archive");
            }
            members.add(local(channel, dir, name, nameBytes, local, stored, crc));
            at = next;
        }
        checkNoOverlap(path, members, localOffsets);
        return members;
    }

    private static long zip64Field(Path path, String name, ByteBuffer cd, int field, int fieldEnd) {
        if (field + 8 > fieldEnd) {
            throw new CheckpointException(path, null, "entry '" + name + "': zip64 extra field too short");
        }
        return cd.getLong(field);
    }

    /** Reads the local header: the entry's data starts after its own name and extra field (torch's alignment padding). */
    private static Member local(WeightsChannel channel, Directory dir, String name, byte[] nameBytes, long local,
                                long size, int crc) {
        Path path = channel.path();
        if (local < 0 || local > dir.offset() - LOCAL_LENGTH) {
            throw new CheckpointException(path, null, "entry '" + name + "': local header at byte "
                    + Long.toUnsignedString(local) + " lies outside the entries (which end at byte " + dir.offset() + ")");
        }
        // the header and the name it must repeat, in one read when they lie before the central directory
        int length = (int) Math.min(LOCAL_LENGTH + nameBytes.length, dir.offset() - local);
        ByteBuffer header = channel.read(local, length);
        int nameLength = u16(header, 26);
        int extraLength = u16(header, 28);
        if (header.getInt(0) != LOCAL_HEADER || nameLength != nameBytes.length || length < LOCAL_LENGTH + nameLength
                || !Arrays.equals(Arrays.copyOfRange(header.array(), LOCAL_LENGTH, length), nameBytes)) {
            throw new CheckpointException(path, null, "entry '" + name + "': no local header for it at byte " + local);
        }
        if ((u16(header, 6) & 0x41) != 0 || u16(header, 8) != 0) {
            throw new CheckpointException(path, null, "entry '" + name + "': its local header says compressed or encrypted");
        }
        long data = local + LOCAL_LENGTH + nameLength + extraLength;
        if (size < 0 || size > dir.offset() - data) {
            throw new CheckpointException(path, null, "entry '" + name + "': " + Long.toUnsignedString(size)
                    + " bytes at byte " + data + " run past the entries (which end at byte " + dir.offset() + ")");
        }
        return new Member(name, data, size, crc);
    }

    /** Two entries sharing bytes would let one storage pass for another: refused, as safetensors refuses overlaps. */
    private static void checkNoOverlap(Path path, List<Member> members, Map<String, Long> localOffsets) {
        List<Member> sorted = new ArrayList<>(members);
        sorted.sort(Comparator.comparingLong(m -> localOffsets.get(m.name())));
        for (int i = 1; i < sorted.size(); i++) {
            Member prev = sorted.get(i - 1);
            Member cur = sorted.get(i);
            if (localOffsets.get(cur.name()) < prev.dataOffset() + prev.size()) {
                throw new CheckpointException(path, null, "entry '" + cur.name() + "' overlaps '" + prev.name() + "'");
            }
        }
    }

    private static String name(Path path, byte[] bytes, long index) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path, null, "central directory entry " + index + ": name is not UTF-8");
        }
    }

    private static int u16(ByteBuffer b, int at) {
        return b.order(ByteOrder.LITTLE_ENDIAN).getShort(at) & 0xFFFF;
    }

    private static long u32(ByteBuffer b, int at) {
        return b.order(ByteOrder.LITTLE_ENDIAN).getInt(at) & 0xFFFFFFFFL;
    }
}
