using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Strix.IO.Onnx;

/// <summary>
/// Base of our hand-written ONNX protobuf messages (field numbers from onnx/onnx.proto). Written
/// by hand rather than generated so Strix needs no protoc step; Google.Protobuf does the wire
/// encoding. Reading skips fields we do not model, so files from newer ONNX versions still load.
/// </summary>
public abstract class OnnxMessage : IMessage
{
    /// <summary>Serialises the message's fields (no length prefix).</summary>
    public abstract void WriteTo(CodedOutputStream output);

    /// <summary>Size in bytes of what <see cref="WriteTo(CodedOutputStream)"/> writes.</summary>
    public abstract int CalculateSize();

    /// <summary>Reads one field whose tag was just read; false for a field this class does not model.</summary>
    protected abstract bool MergeField(CodedInputStream input, int fieldNumber, WireFormat.WireType wireType);

    /// <summary>Reads fields until the end of the input (or of the enclosing message); unknown fields are skipped.</summary>
    public void MergeFrom(CodedInputStream input)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
            if (!MergeField(input, WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag)))
                input.SkipLastField();
    }

    /// <summary>Hand-written messages carry no reflection descriptor.</summary>
    MessageDescriptor IMessage.Descriptor =>
        throw new NotSupportedException($"{GetType().Name} is a hand-written ONNX message without a reflection descriptor");

    /// <summary>The message's wire bytes.</summary>
    public byte[] ToByteArray()
    {
        var bytes = new byte[CalculateSize()];
        var output = new CodedOutputStream(bytes);
        WriteTo(output);
        output.CheckNoSpaceLeft();
        return bytes;
    }

    /// <summary>Streams the message's wire bytes into <paramref name="stream"/> (left open).</summary>
    public void WriteTo(Stream stream)
    {
        using var output = new CodedOutputStream(stream, leaveOpen: true);
        WriteTo(output);
        output.Flush();
    }

    /// <summary>Parses a message of type <typeparamref name="T"/> from its wire bytes.</summary>
    public static T Parse<T>(byte[] bytes) where T : OnnxMessage, new()
    {
        var m = new T();
        m.MergeFrom(new CodedInputStream(bytes));
        return m;
    }
}

/// <summary>Encoding helpers shared by the message classes: proto2 semantics (a field is written when set).</summary>
internal static class Wire
{
    public static void String(CodedOutputStream o, int field, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    public static int StringSize(int field, string? value) =>
        string.IsNullOrEmpty(value) ? 0 : CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeStringSize(value);

    public static void Int64(CodedOutputStream o, int field, long value)
    {
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt64(value);
    }

    public static int Int64Size(int field, long value) => CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeInt64Size(value);

    public static void Message(CodedOutputStream o, int field, OnnxMessage? m)
    {
        if (m is null) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(m.CalculateSize());
        m.WriteTo(o);
    }

    public static int MessageSize(int field, OnnxMessage? m)
    {
        if (m is null) return 0;
        int n = m.CalculateSize();
        return CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(n) + n;
    }

    public static void Messages<T>(CodedOutputStream o, int field, List<T> ms) where T : OnnxMessage
    {
        foreach (var m in ms) Message(o, field, m);
    }

    public static int MessagesSize<T>(int field, List<T> ms) where T : OnnxMessage
    {
        int n = 0;
        foreach (var m in ms) n += MessageSize(field, m);
        return n;
    }

    public static void Strings(CodedOutputStream o, int field, List<string> values)
    {
        foreach (var v in values) { o.WriteTag(field, WireFormat.WireType.LengthDelimited); o.WriteString(v); }
    }

    public static int StringsSize(int field, List<string> values) =>
        values.Sum(v => CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeStringSize(v));

    public static void Bytes(CodedOutputStream o, int field, ByteString value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(value);
    }

    public static int BytesSize(int field, ByteString value) => CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeBytesSize(value);

    /// <summary>Unpacked repeated int64 (one tag per value), as onnx.proto declares dims and ints.</summary>
    public static void Int64s(CodedOutputStream o, int field, List<long> values)
    {
        foreach (var v in values) Int64(o, field, v);
    }

    public static int Int64sSize(int field, List<long> values) => values.Sum(v => Int64Size(field, v));

    /// <summary>Unpacked repeated float (AttributeProto.floats).</summary>
    public static void Floats(CodedOutputStream o, int field, List<float> values)
    {
        foreach (var v in values) { o.WriteTag(field, WireFormat.WireType.Fixed32); o.WriteFloat(v); }
    }

    public static int FloatsSize(int field, List<float> values) => values.Count * (CodedOutputStream.ComputeTagSize(field) + 4);

    /// <summary>Packed repeated float ([packed = true] in onnx.proto).</summary>
    public static void PackedFloats(CodedOutputStream o, int field, List<float> values)
    {
        if (values.Count == 0) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(values.Count * 4);
        foreach (var v in values) o.WriteFloat(v);
    }

    public static int PackedFloatsSize(int field, List<float> values) =>
        values.Count == 0 ? 0 : CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(values.Count * 4) + values.Count * 4;

    public static void PackedDoubles(CodedOutputStream o, int field, List<double> values)
    {
        if (values.Count == 0) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(values.Count * 8);
        foreach (var v in values) o.WriteDouble(v);
    }

    public static int PackedDoublesSize(int field, List<double> values) =>
        values.Count == 0 ? 0 : CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(values.Count * 8) + values.Count * 8;

    /// <summary>Packed repeated varints (int32 as int32 encoding, int64, uint64).</summary>
    public static void PackedVarints(CodedOutputStream o, int field, List<long> values, bool int32 = false)
    {
        if (values.Count == 0) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(VarintsPayload(values, int32));
        foreach (var v in values) if (int32) o.WriteInt32((int)v); else o.WriteInt64(v);
    }

    public static int PackedVarintsSize(int field, List<long> values, bool int32 = false)
    {
        if (values.Count == 0) return 0;
        int n = VarintsPayload(values, int32);
        return CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(n) + n;
    }

    static int VarintsPayload(List<long> values, bool int32)
    {
        int n = 0;
        foreach (var v in values) n += int32 ? CodedOutputStream.ComputeInt32Size((int)v) : CodedOutputStream.ComputeInt64Size(v);
        return n;
    }

    // Readers accept both packed and unpacked encodings, as the protobuf spec requires.

    public static void ReadInt64s(CodedInputStream i, WireFormat.WireType wire, List<long> into)
    {
        if (wire == WireFormat.WireType.LengthDelimited)
        {
            int len = i.ReadLength();
            long end = i.Position + len;
            while (i.Position < end) into.Add(i.ReadInt64());
        }
        else into.Add(i.ReadInt64());
    }

    public static void ReadInt32s(CodedInputStream i, WireFormat.WireType wire, List<long> into)
    {
        if (wire == WireFormat.WireType.LengthDelimited)
        {
            int len = i.ReadLength();
            long end = i.Position + len;
            while (i.Position < end) into.Add(i.ReadInt32());
        }
        else into.Add(i.ReadInt32());
    }

    public static void ReadUInt64s(CodedInputStream i, WireFormat.WireType wire, List<ulong> into)
    {
        if (wire == WireFormat.WireType.LengthDelimited)
        {
            int len = i.ReadLength();
            long end = i.Position + len;
            while (i.Position < end) into.Add(i.ReadUInt64());
        }
        else into.Add(i.ReadUInt64());
    }

    public static void ReadFloats(CodedInputStream i, WireFormat.WireType wire, List<float> into)
    {
        if (wire == WireFormat.WireType.LengthDelimited)
        {
            int len = i.ReadLength();
            if (len % 4 != 0) throw new InvalidDataException($"packed float field of {len} bytes is not a multiple of 4");
            into.Capacity = Math.Max(into.Capacity, into.Count + len / 4);
            for (int k = 0; k < len / 4; k++) into.Add(i.ReadFloat());
        }
        else into.Add(i.ReadFloat());
    }

    public static void ReadDoubles(CodedInputStream i, WireFormat.WireType wire, List<double> into)
    {
        if (wire == WireFormat.WireType.LengthDelimited)
        {
            int len = i.ReadLength();
            if (len % 8 != 0) throw new InvalidDataException($"packed double field of {len} bytes is not a multiple of 8");
            for (int k = 0; k < len / 8; k++) into.Add(i.ReadDouble());
        }
        else into.Add(i.ReadDouble());
    }

    public static T ReadMessage<T>(CodedInputStream i) where T : OnnxMessage, new()
    {
        var m = new T();
        i.ReadMessage(m);
        return m;
    }
}
