using Strix.Export;
using Strix.IO;

namespace Strix.Tests.Export;

public class PythonLiteralTests
{
    [Theory]
    [InlineData("person", "'person'")]
    [InlineData("it's", "\"it's\"")]
    [InlineData("say \"hi\"", "'say \"hi\"'")]
    [InlineData("both ' and \"", "'both \\' and \"'")]
    [InlineData("back\\slash\nnewline", "'back\\\\slash\\nnewline'")]
    [InlineData("café 猫", "'café 猫'")]
    public void ReprMatchesPython(string s, string expected) => Assert.Equal(expected, PythonLiteral.Repr(s));

    [Fact]
    public void NamesRoundTripThroughPythonDictText()
    {
        var names = new[] { "person", "it's", "both ' and \"", "tab\there", "café 猫", "" };
        var text = PythonLiteral.NamesDict(names);
        Assert.StartsWith("{0: 'person', 1: \"it's\", ", text);
        Assert.Equal(names, PythonLiteral.ParseNames(text));
    }

    [Fact]
    public void ParsesUltralyticsNamesAndSizes()
    {
        Assert.Equal(new[] { "person", "bicycle", "car" }, PythonLiteral.ParseNames("{0: 'person', 1: 'bicycle', 2: 'car'}"));
        Assert.Equal(new[] { "a", "b" }, PythonLiteral.ParseNames("{1: 'b', 0: 'a'}"));
        Assert.Equal(new[] { "a", "b" }, PythonLiteral.ParseNames("['a', \"b\"]"));
        Assert.Equal(new[] { 640, 480 }, PythonLiteral.ParseIntList("[640, 480]"));
        Assert.Equal(new[] { 320 }, PythonLiteral.ParseIntList("320"));
        Assert.Equal(new[] { 640, 640 }, PythonLiteral.ParseIntList("(640, 640)"));
    }

    [Theory]
    [InlineData("{0: 'a', 2: 'c'}")]
    [InlineData("{0: 'a', 1: 5}")]
    [InlineData("{0: 'a'")]
    [InlineData("'just a string'")]
    public void BadNamesAreRejected(string text) => Assert.Throws<FormatException>(() => PythonLiteral.ParseNames(text));
}
