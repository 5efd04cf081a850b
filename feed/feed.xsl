<?xml version="1.0" encoding="UTF-8"?>
<!--
  dropfeed's feed style sheet. A browser that opens /feed.atom or /feed.rss
  applies it and shows a readable page instead of raw XML. Feed readers
  ignore it. The HTML index stays the main view for people.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:apply-templates select="atom:feed | rss/channel"/>
  </xsl:template>

  <xsl:template match="atom:feed">
    <xsl:call-template name="page">
      <xsl:with-param name="format">Atom</xsl:with-param>
      <xsl:with-param name="title" select="atom:title"/>
      <xsl:with-param name="description" select="atom:subtitle"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="home" select="atom:link[@rel='alternate']/@href"/>
      <xsl:with-param name="lang" select="@xml:lang"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="rss/channel">
    <xsl:call-template name="page">
      <xsl:with-param name="format">RSS</xsl:with-param>
      <xsl:with-param name="title" select="title"/>
      <xsl:with-param name="description" select="description[. != ../title]"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="home" select="link"/>
      <xsl:with-param name="lang" select="language"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="page">
    <xsl:param name="format"/>
    <xsl:param name="title"/>
    <xsl:param name="description"/>
    <xsl:param name="self"/>
    <xsl:param name="home"/>
    <xsl:param name="lang"/>
    <html>
      <xsl:if test="string($lang)">
        <xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute>
      </xsl:if>
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (<xsl:value-of select="$format"/> feed)</title>
        <style>
body { max-width: 42rem; margin: 2rem auto; padding: 0 1rem; font: 1.05rem/1.6 system-ui, sans-serif; color: #222; background: #fff; }
a { color: #0645ad; }
.hint { border: 1px solid #ccd; border-radius: 0.5rem; padding: 0.75rem 1rem; background: #f4f6fb; }
.hint code { word-break: break-all; }
ol.items { list-style: none; padding: 0; }
ol.items li { margin: 1.5rem 0; }
ol.items h2 { font-size: 1.2rem; margin: 0; }
.meta { color: #666; font-size: 0.9rem; }
@media (prefers-color-scheme: dark) { body { color: #ddd; background: #181818; } a { color: #8ab4f8; } .hint { background: #222833; border-color: #445; } .meta { color: #aaa; } }
        </style>
      </head>
      <body>
        <header>
          <div class="hint">
            <p><strong>This is a web feed</strong> (<xsl:value-of select="$format"/>), meant for feed readers.
              To subscribe, copy its address into your feed reader:</p>
            <p><code><xsl:value-of select="$self"/></code></p>
            <p>To read the articles in your browser, visit <a href="{$home}"><xsl:value-of select="$title"/></a>.</p>
          </div>
          <h1><xsl:value-of select="$title"/></h1>
          <xsl:if test="string($description)">
            <p><xsl:value-of select="$description"/></p>
          </xsl:if>
        </header>
        <main>
          <ol class="items">
            <xsl:apply-templates select="atom:entry | item"/>
          </ol>
          <xsl:if test="not(atom:entry | item)">
            <p>Nothing published yet.</p>
          </xsl:if>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <h2><a href="{atom:link[@rel='alternate'][1]/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p class="meta">
        <time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
        <xsl:for-each select="atom:author/atom:name"> · <xsl:value-of select="."/></xsl:for-each>
      </p>
      <xsl:if test="string(atom:summary)">
        <p><xsl:value-of select="atom:summary"/></p>
      </xsl:if>
    </li>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="meta">
        <xsl:value-of select="substring(pubDate, 1, 16)"/>
        <xsl:for-each select="*[local-name()='creator']"> · <xsl:value-of select="."/></xsl:for-each>
      </p>
      <xsl:if test="string(description)">
        <!-- dropfeed escapes its plain-text summaries once more for RSS; undo that without disable-output-escaping, which Firefox ignores. -->
        <p><xsl:call-template name="unescape"><xsl:with-param name="s" select="description"/></xsl:call-template></p>
      </xsl:if>
    </li>
  </xsl:template>

  <!-- unescape replaces the references html.EscapeString writes (&amp; &lt; &gt; &#34; &#39;) by their characters. -->
  <xsl:template name="unescape">
    <xsl:param name="s"/>
    <xsl:choose>
      <xsl:when test="contains($s, '&amp;')">
        <xsl:value-of select="substring-before($s, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($s, '&amp;')"/>
        <xsl:variable name="ref" select="substring-before($rest, ';')"/>
        <xsl:choose>
          <xsl:when test="$ref = 'amp'">&amp;</xsl:when>
          <xsl:when test="$ref = 'lt'">&lt;</xsl:when>
          <xsl:when test="$ref = 'gt'">&gt;</xsl:when>
          <xsl:when test="$ref = '#34' or $ref = 'quot'">"</xsl:when>
          <xsl:when test="$ref = '#39' or $ref = 'apos'">'</xsl:when>
          <xsl:otherwise>&amp;</xsl:otherwise>
        </xsl:choose>
        <xsl:call-template name="unescape">
          <xsl:with-param name="s">
            <xsl:choose>
              <xsl:when test="$ref = 'amp' or $ref = 'lt' or $ref = 'gt' or $ref = '#34' or $ref = 'quot' or $ref = '#39' or $ref = 'apos'">
                <xsl:value-of select="substring-after($rest, ';')"/>
              </xsl:when>
              <xsl:otherwise><xsl:value-of select="$rest"/></xsl:otherwise>
            </xsl:choose>
          </xsl:with-param>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
