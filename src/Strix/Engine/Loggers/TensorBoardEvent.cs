using Google.Protobuf;
using Strix.Runtime;

namespace Strix.Engine.Loggers;

/// <summary>
/// The parts of TensorFlow's <c>Event</c> protobuf that scalar logging uses, encoded by hand with
/// Google.Protobuf's coded streams: Event { double wall_time = 1; int64 step = 2;
/// string file_version = 3; Summary summary = 5; }, Summary { repeated Value value = 1; },
/// Value { string tag = 1; float simple_value = 2; }.
/// </summary>
public sealed record TensorBoardEvent(double WallTime, long Step, string? FileVersion, IReadOnlyList<KeyValuePair<string, float>> Scalars)
{
    public byte[] ToBytes()
    {
        var summary = new MemoryStream();
        var so = new CodedOutputStream(summary);
        foreach (var (tag, value) in Scalars)
        {
            var v = new MemoryStream();
            var vo = new CodedOutputStream(v);
            vo.WriteTag(1, WireFormat.WireType.LengthDelimited); vo.WriteString(tag);
            vo.WriteTag(2, WireFormat.WireType.Fixed32); vo.WriteFloat(value);
            vo.Flush();
            so.WriteTag(1, WireFormat.WireType.LengthDelimited); so.WriteBytes(ByteString.CopyFrom(v.ToArray()));
        }
        so.Flush();

        var ev = new MemoryStream();
        var eo = new CodedOutputStream(ev);
        eo.WriteTag(1, WireFormat.WireType.Fixed64); eo.WriteDouble(WallTime);
        if (Step != 0) { eo.WriteTag(2, WireFormat.WireType.Varint); eo.WriteInt64(Step); }
        if (FileVersion is not null) { eo.WriteTag(3, WireFormat.WireType.LengthDelimited); eo.WriteString(FileVersion); }
        if (Scalars.Count > 0) { eo.WriteTag(5, WireFormat.WireType.LengthDelimited); eo.WriteBytes(ByteString.CopyFrom(summary.ToArray())); }
        eo.Flush();
        return ev.ToArray();
    }

    /// <summary>Decodes an Event, keeping wall time, step, file version and simple_value scalars (other fields are skipped).</summary>
    public static TensorBoardEvent Parse(byte[] data)
    {
        var input = new CodedInputStream(data);
        double wall = 0; long step = 0; string? version = null;
        var scalars = new List<KeyValuePair<string, float>>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Fixed64: wall = input.ReadDouble(); break;
                case 2 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint: step = input.ReadInt64(); break;
                case 3 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited: version = input.ReadString(); break;
                case 5 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited: ParseSummary(input.ReadBytes(), scalars); break;
                default: input.SkipLastField(); break;
            }
        }
        return new TensorBoardEvent(wall, step, version, scalars);
    }

    static void ParseSummary(ByteString bytes, List<KeyValuePair<string, float>> scalars)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 1) { input.SkipLastField(); continue; }
            var v = input.ReadBytes().CreateCodedInput();
            string? name = null; float? value = null;
            uint vt;
            while ((vt = v.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(vt) == 1) name = v.ReadString();
                else if (WireFormat.GetTagFieldNumber(vt) == 2 && WireFormat.GetTagWireType(vt) == WireFormat.WireType.Fixed32) value = v.ReadFloat();
                else v.SkipLastField();
            }
            if (name is not null && value is float f) scalars.Add(KeyValuePair.Create(name, f));
        }
    }
}
