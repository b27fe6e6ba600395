using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

/// <summary>Reads the little-endian float32, C-order .npy files that the fixture scripts write.</summary>
static class Npy
{
    public static Tensor LoadFloat32(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path}: not a .npy file");
        int major = bytes[6];
        int headerLen = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(bytes, start, headerLen);
        if (!header.Contains("'descr': '<f4'") || header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"{path}: expected little-endian float32 in C order, header {header}");
        var shapeText = Regex.Match(header, @"'shape':\s*\(([^)]*)\)").Groups[1].Value;
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        int offset = start + headerLen;
        var data = new float[(bytes.Length - offset) / 4];
        Buffer.BlockCopy(bytes, offset, data, 0, data.Length * 4);
        if (data.Length != shape.Aggregate(1L, (a, b) => a * b))
            throw new InvalidDataException($"{path}: {data.Length} values for shape ({shapeText})");
        return tensor(data).reshape(shape);
    }
}
