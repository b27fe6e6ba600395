using System.Text;

namespace Strix.Tests.Platform;

/// <summary>
/// The build marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak in the output folder
/// (build/Strix.targets) when the system libstdc++ lacks that version, and never touches the NuGet cache.
/// </summary>
public class GlibcxxFixTests
{
    /// <summary>Reads (version name → flags) from an ELF64 file's GNU version-needs section.</summary>
    static Dictionary<string, ushort> VersionNeeds(string path)
    {
        var b = File.ReadAllBytes(path);
        var result = new Dictionary<string, ushort>();
        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)(shoff + i * shentsize);
            if (BitConverter.ToUInt32(b, sh + 4) != 0x6ffffffe) continue;
            int off = (int)BitConverter.ToInt64(b, sh + 0x18);
            int strtab = (int)BitConverter.ToInt64(b, (int)(shoff + BitConverter.ToUInt32(b, sh + 0x28) * shentsize) + 0x18);
            int entries = (int)BitConverter.ToUInt32(b, sh + 0x2C);
            for (int n = 0, vn = off; n < entries; n++)
            {
                for (int a = 0, aux = vn + (int)BitConverter.ToUInt32(b, vn + 8); a < BitConverter.ToUInt16(b, vn + 2); a++)
                {
                    int name = strtab + (int)BitConverter.ToUInt32(b, aux + 8);
                    int end = Array.IndexOf(b, (byte)0, name);
                    result[Encoding.ASCII.GetString(b, name, end - name)] = BitConverter.ToUInt16(b, aux + 4);
                    aux += (int)BitConverter.ToUInt32(b, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(b, vn + 12);
            }
        }
        return result;
    }

    static bool SystemHasGlibcxx3432()
    {
        foreach (var dir in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
        {
            var p = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(p)) return Encoding.ASCII.GetString(File.ReadAllBytes(p)).Contains("GLIBCXX_3.4.32\0");
        }
        return false;
    }

    [SkippableFact]
    public void OutputCopyHasTheRequirementWeakOnlyWhereNeeded()
    {
        Requires.Linux("the GLIBCXX fix and the problem exist only in the Linux native library");
        var outputs = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(outputs);
        foreach (var lib in outputs)
        {
            var needs = VersionNeeds(lib);
            Assert.True(needs.ContainsKey("GLIBCXX_3.4.32"), $"{lib} no longer asks for GLIBCXX_3.4.32: revisit build/Strix.targets");
            bool weak = (needs["GLIBCXX_3.4.32"] & 0x2) != 0;
            Assert.Equal(!SystemHasGlibcxx3432(), weak);
            // Only that one requirement changes.
            Assert.All(needs.Where(kv => kv.Key != "GLIBCXX_3.4.32"), kv => Assert.Equal(0, kv.Value & 0x2));
        }
    }

    [SkippableFact]
    public void NuGetCacheCopyIsUntouched()
    {
        Requires.Linux("the GLIBCXX fix patches the Linux native library");
        var home = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cached = Directory.Exists(home)
            ? Directory.GetFiles(Path.Combine(home, "torchsharp"), "libLibTorchSharp.so", SearchOption.AllDirectories)
            : Array.Empty<string>();
        Assert.NotEmpty(cached);
        Assert.All(cached, c => Assert.Equal(0, VersionNeeds(c)["GLIBCXX_3.4.32"] & 0x2));
    }
}
