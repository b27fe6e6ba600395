using System.Buffers.Binary;
using System.Numerics;

namespace Strix.Engine.Loggers;

/// <summary>
/// TFRecord framing (what TensorBoard event files are made of): per record a little-endian uint64
/// length, the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.
/// </summary>
public static class TfRecord
{
    /// <summary>CRC-32C (Castagnoli), as TensorFlow computes it.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return ~crc;
    }

    /// <summary>TensorFlow's masked CRC: rotate right by 15 and add 0xa282ead8.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    public static void Write(Stream s, ReadOnlySpan<byte> record)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)record.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        s.Write(header);
        s.Write(record);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(record));
        s.Write(footer);
    }

    /// <summary>Reads every record, verifying both CRCs; a damaged record raises <see cref="InvalidDataException"/>.</summary>
    public static IEnumerable<byte[]> ReadAll(Stream s, string name = "stream")
    {
        var header = new byte[12];
        var footer = new byte[4];
        long index = 0;
        while (true)
        {
            int n = s.ReadAtLeast(header, 12, throwOnEndOfStream: false);
            if (n == 0) yield break;
            if (n < 12) throw new InvalidDataException($"{name}: record {index} is truncated");
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)) != MaskedCrc(header.AsSpan(0, 8)))
                throw new InvalidDataException($"{name}: record {index} has a bad length CRC");
            if (len > int.MaxValue) throw new InvalidDataException($"{name}: record {index} claims {len} bytes");
            var data = new byte[len];
            if (s.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) < data.Length || s.ReadAtLeast(footer, 4, throwOnEndOfStream: false) < 4)
                throw new InvalidDataException($"{name}: record {index} is truncated");
            if (BinaryPrimitives.ReadUInt32LittleEndian(footer) != MaskedCrc(data))
                throw new InvalidDataException($"{name}: record {index} has a bad data CRC");
            index++;
            yield return data;
        }
    }
}
