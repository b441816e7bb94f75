# Homebrew formula: brew install --formula ./packaging/homebrew/oktacred.rb
class Oktacred < Formula
  desc "Okta credentials for shells, tools and child processes"
  homepage "https://oktacred.invalid/"
  url "file://#{File.expand_path("../../build/dist/oktacred-0.1.0.tar.gz", __dir__)}"
  version "0.1.0"
  license "MIT"

  depends_on "pkg-config" => :build
  depends_on "scdoc" => :build
  depends_on "curl"
  depends_on "libsecret"
  depends_on "libxml2"
  depends_on "openssl@3"
  depends_on "qrencode"

  def install
    # On Linux bin/oktacred is the static front and libexec/oktacred/oktacred the full
    # program it hands over to; on macOS bin/oktacred is the one full program.
    system "make", "oktacred", "docs", "LIBEXECDIR=#{libexec}", "WERROR="
    system "make", "install", "PREFIX=#{prefix}", "LIBEXECDIR=#{libexec}", "MANDIR=#{man}"
    doc.install "README.md", "SECURITY.md"
  end

  test do
    assert_match "oktacred #{version}", shell_output("#{bin}/oktacred --version")
  end
end
